// 信访终端: registration (registrar), the worklist and a matter's page (handler), the unit's matters (supervisor),
// and 待同步 (what waits for the network). Plain ES modules, no build step; every call goes through api.js.
import { api, Offline, Problem, session } from "./api.js";
import { $, counted, ref, say, setRef, view } from "./common.js";
import { mattersPage, worklistPage } from "./lists.js";
import { lookupPage } from "./lookup.js";
import { matterPage } from "./matter.js";
import { outboxPage, syncNow } from "./queue.js";
import { registerPage } from "./register.js";

// ---- start, sign-in, the shell -------------------------------------------------------------------------------


async function signIn(token) {
  const [me, places, categories, units] = await Promise.all(
    ["/v1/me", "/v1/places", "/v1/categories", "/v1/units"].map((path) => api(path, { token })));
  session.start(token);
  setRef({ me, places, categories, units });
  session.keep(ref);
}

function signOut(message) {
  session.end();
  setRef(null);
  say(message || "");
  $("#signin").classList.remove("hidden");
  for (const id of ["#nav", "#signout"]) $(id).classList.add("hidden");
  $("#who").textContent = "";
  view().innerHTML = "";
  $("#token").focus();
}

function shell() {
  const { me } = ref;
  $("#signin").classList.add("hidden");
  $("#nav").classList.remove("hidden");
  $("#signout").classList.remove("hidden");
  $("#who").textContent = `${me.unit.name} · ${me.roles.map((r) => ROLE_NAMES[r] || r).join("、")}`;
  for (const link of document.querySelectorAll("#nav a[data-role]")) {
    const role = link.dataset.role;
    const allowed = role === "registrar" ? has("registrar") : role === "handler" ? has("handler") || has("supervisor")
      : role === "desk" ? ["registrar", "handler", "supervisor"].some(has) : has("supervisor");
    link.classList.toggle("hidden", !allowed);
  }
}

const ROLE_NAMES = { registrar: "登记员", handler: "办理人员", supervisor: "主管", auditor: "审计", admin: "管理员" };
const has = (role) => ref.me.roles.includes(role);

function failed(err) {
  if (err instanceof Problem && err.status === 401) return signOut(`${err.zh}，请重新登录`);
  say(err instanceof Offline ? "网络已断开，无法读取最新数据" : `${err.zh || err.message}`);
}

// ---- pages ---------------------------------------------------------------------------------------------------

const PAGES = { register: registerPage, lookup: lookupPage, worklist: worklistPage, matters: mattersPage,
                matter: matterPage, outbox: outboxPage };

async function route() {
  if (!ref) return;
  say("");
  const [name, arg] = location.hash.replace(/^#\//, "").split("?")[0].split("/");
  const page = PAGES[name] ? name : has("registrar") ? "register" : "worklist";
  document.body.dataset.page = page;
  document.body.dataset.ready = "";
  for (const link of document.querySelectorAll("#nav a")) {
    link.toggleAttribute("aria-current", link.getAttribute("href") === `#/${page}`);
    if (link.hasAttribute("aria-current")) link.setAttribute("aria-current", "page");
  }
  try {
    await PAGES[page](arg);
  } catch (err) {
    failed(err);
  }
  document.body.dataset.ready = page;
  performance.mark(`${page}-ready`);
  requestAnimationFrame(() => setTimeout(() => performance.mark(`${page}-painted`)));  // after its first frame
}

function network() {
  const net = $("#net");
  net.textContent = navigator.onLine ? "" : "离线：登记和办理将保存在本机，待同步";
  net.classList.toggle("offline", !navigator.onLine);
  document.body.dataset.online = String(navigator.onLine);
  if (navigator.onLine) syncNow();
}

// ---- start ---------------------------------------------------------------------------------------------------

async function start() {
  performance.mark("terminal-start");  // every module loaded and run: what the page's files cost
  window.addEventListener("online", network);
  window.addEventListener("offline", network);
  window.addEventListener("hashchange", route);
  setInterval(syncNow, 15000);  // a network that came back without an "online" event (a router, not the cable)
  $("#signout").addEventListener("click", () => signOut("已退出登录"));
  $("#signin").addEventListener("submit", async (e) => {
    e.preventDefault();
    const token = $("#token").value.trim();
    try {
      await signIn(token);
      $("#token").value = "";
      shell();
      network();
      await counted();
      await route();
    } catch (err) {
      say(err instanceof Problem ? err.zh : "无法连接受理服务，请检查网络");
    }
  });
  const token = session.token();
  setRef(token ? session.reference() : null);
  if (token && !ref) await signIn(token).catch(() => setRef(null));  // a token but no reference data yet
  if (!ref) {
    session.end();
    $("#signin").classList.remove("hidden");
    $("#token").focus();
    document.body.dataset.ready = "signin";
    return;
  }
  shell();
  network();
  counted();  // beside the page: opening IndexedDB need not hold up the first read
  await route();
}

start();
// registered once the page is drawn: installing it fetches the terminal's files again, after the page's own reads
window.addEventListener("load", () => {
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("sw.js").catch(() => {});
});
