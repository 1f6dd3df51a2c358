// 信访终端: registration (registrar), the worklist and a matter's page (handler), the unit's matters (supervisor),
// and 待同步 (what waits for the network). Plain ES modules, no build step; every call goes through api.js.
import { api, newKey, occurredNow, Offline, Problem, session } from "./api.js";
import { idNumberProblem } from "./idcard.js";
import * as outbox from "./outbox.js";

const $ = (selector, root = document) => root.querySelector(selector);
const view = () => $("#view");
const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (ch) => ESCAPES[ch]);
const options = (pairs, chosen = "") =>
  pairs.map(([value, text]) => `<option value="${esc(value)}"${value === chosen ? " selected" : ""}>${esc(text)}</option>`).join("");
// one formatter for every date of a page: toLocaleString() builds one per call (a third of a 1,000-row worklist's time)
const CLOCK_FORMAT = new Intl.DateTimeFormat("zh-CN", { dateStyle: "short", timeStyle: "short", hour12: false });
const when = (iso) => iso ? CLOCK_FORMAT.format(new Date(iso)) : "—";
let ref = null;  // {me, places, categories, units}: kept in the session, so an offline reload still has them

// ---- start, sign-in, the shell -------------------------------------------------------------------------------

function say(message) { $("#error").textContent = message; }

async function signIn(token) {
  const [me, places, categories, units] = await Promise.all(
    ["/v1/me", "/v1/places", "/v1/categories", "/v1/units"].map((path) => api(path, { token })));
  session.start(token);
  ref = { me, places, categories, units };
  session.keep(ref);
}

function signOut(message) {
  session.end();
  ref = null;
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
      : has("supervisor");
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

const PAGES = { register: registerPage, worklist: worklistPage, matters: mattersPage, matter: matterPage,
                outbox: outboxPage };

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

// ---- registration --------------------------------------------------------------------------------------------

function placeOptions() {
  // the county's tree in depth-first order, each place indented under its parent
  const { places } = ref;
  const codes = new Set(places.map((p) => p.code));
  const children = new Map();
  for (const p of places) {
    const parent = codes.has(p.parent) ? p.parent : "";
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(p);
  }
  const out = [];
  const walk = (parent, depth) => {
    for (const p of children.get(parent) || []) {
      out.push([p.code, `${"　".repeat(depth)}${p.name}`]);
      walk(p.code, depth + 1);
    }
  };
  walk("", 0);
  return out;
}

let petitionerCount = 0;

function petitionerFieldset() {
  const n = ++petitionerCount;
  return `<fieldset class="petitioner" data-n="${n}"><legend>信访人</legend><div class="grid">
    <div><label for="name-${n}">姓名</label><input id="name-${n}" name="name" required maxlength="64"></div>
    <div><label for="id-${n}">居民身份证号码</label>
      <input id="id-${n}" name="id_number" inputmode="text" maxlength="18" autocomplete="off" spellcheck="false"
             aria-describedby="id-${n}-error">
      <p id="id-${n}-error" class="field-error" aria-live="polite"></p></div>
    <div><label for="phone-${n}">联系电话</label><input id="phone-${n}" name="phone" inputmode="tel" maxlength="20"
             pattern="[0-9+\\- ]{5,20}"></div>
    <div><label for="address-${n}">住址</label><input id="address-${n}" name="address" maxlength="200"></div>
  </div><button type="button" class="remove">删除此信访人</button></fieldset>`;
}

async function registerPage() {
  const { me, categories } = ref;
  petitionerCount = 0;
  const channels = Object.entries(me.labels.channel);
  view().innerHTML = `<form id="register" class="card" novalidate>
    <h2>登记信访事项</h2>
    <div class="grid">
      <div><label for="channel">信访形式</label><select id="channel" name="channel" required>${options(channels)}</select></div>
      <div><label for="jurisdiction">事项发生地</label>
        <select id="jurisdiction" name="jurisdiction" required>${options(placeOptions(), me.unit.jurisdiction)}</select></div>
      <div><label for="category">内容分类</label><select id="category" name="category" required>
        <option value="">请选择</option>${options(categories.map((k) => [k.code, k.name]))}</select></div>
      <div><label for="head_count">人数</label><input id="head_count" name="head_count" type="number" min="1"
        max="${me.max_head_count}" value="1" required aria-describedby="head-hint">
        <p id="head-hint" class="hint">${me.collective_threshold}人及以上为集体访</p></div>
    </div>
    <label for="summary">主要诉求</label><textarea id="summary" name="summary" required maxlength="4000"></textarea>
    <div id="petitioners">${petitionerFieldset()}</div>
    <div class="actions"><button type="button" id="add-petitioner">添加信访人</button>
      <button type="submit" class="primary">登记</button></div>
    <p id="register-error" class="field-error" role="alert"></p>
  </form>`;
  const form = $("#register");
  $("#channel").focus();
  form.addEventListener("input", (e) => { if (e.target.name === "id_number") checkId(e.target); });
  form.addEventListener("click", (e) => {
    if (e.target.classList.contains("remove") && form.querySelectorAll(".petitioner").length > 1) {
      e.target.closest(".petitioner").remove();
      $(".petitioner input", form).focus();
    }
  });
  $("#add-petitioner").addEventListener("click", () => {
    $("#petitioners").insertAdjacentHTML("beforeend", petitionerFieldset());
    $("#petitioners .petitioner:last-child input").focus();
  });
  form.addEventListener("submit", (e) => { e.preventDefault(); submitRegistration(form); });
}

function checkId(input) {
  const problem = idNumberProblem(input.value);
  input.setAttribute("aria-invalid", problem ? "true" : "false");
  const said = $(`#${input.id}-error`);
  said.textContent = problem || (input.value ? "号码校验通过" : "");
  said.classList.toggle("field-ok", !problem);
  return problem;
}

function registration(form) {
  const value = (name) => form.elements[name].value.trim();
  const petitioners = [...form.querySelectorAll(".petitioner")].map((set) => {
    const person = { name: $("[name=name]", set).value.trim() };
    for (const field of ["id_number", "phone", "address"]) {
      const text = $(`[name=${field}]`, set).value.trim();
      if (text) person[field] = field === "id_number" ? text.toUpperCase() : text;
    }
    return person;
  });
  return { channel: value("channel"), jurisdiction: value("jurisdiction"), category: value("category"),
           summary: value("summary"), head_count: Number(value("head_count")), petitioners };
}

function invalidFields(form) {
  let first = null;
  for (const input of form.querySelectorAll("input, select, textarea")) {
    const bad = !input.checkValidity() || (input.name === "id_number" && checkId(input));
    input.setAttribute("aria-invalid", bad ? "true" : "false");
    first = first || (bad ? input : null);
  }
  return first;
}

async function submitRegistration(form) {
  const error = $("#register-error");
  const wrong = invalidFields(form);
  if (wrong) {
    error.textContent = `请检查「${form.querySelector(`label[for="${wrong.id}"]`).textContent}」`;
    return wrong.focus();
  }
  error.textContent = "";
  // its occurred time and key go with the first try and every retry alike: the same body, never a second matter
  const body = { ...registration(form), occurred_at: occurredNow() };
  const key = newKey();
  const button = $("button[type=submit]", form);
  button.disabled = true;
  try {
    const answer = await api("/v1/petitions", { method: "POST", body, key });
    showSlip(body, answer);
  } catch (err) {
    if (err instanceof Offline) {
      await outbox.queue({ key, terminal_id: ref.me.terminal_id, path: "/v1/petitions", what: "登记", body,
                           slip: slipFacts(body) });
      await counted();
      showSlip(body, null);
    } else {
      button.disabled = false;
      error.textContent = problemText(err);
      markFields(form, err);
    }
  }
}

function problemText(err) {
  if (!(err instanceof Problem)) return String(err.message || err);
  const fields = (err.body.errors || []).map((f) => `${f.field}：${f.message_zh}`).join("；");
  return `${err.zh}${fields ? `（${fields}）` : ""}`;
}

function markFields(form, err) {
  for (const f of (err.body && err.body.errors) || []) {
    const [name, index, sub] = String(f.field).split(".");
    const input = name === "petitioners" ? form.querySelectorAll(".petitioner")[Number(index)]?.querySelector(`[name=${sub}]`)
      : form.elements[name];
    if (input) input.setAttribute("aria-invalid", "true");
  }
}

function slipFacts(body) {
  const place = ref.places.find((p) => p.code === body.jurisdiction);
  const category = ref.categories.find((k) => k.code === body.category);
  return { channel: ref.me.labels.channel[body.channel], place: place ? place.name : body.jurisdiction,
           category: category ? category.name : body.category, head_count: body.head_count,
           names: body.petitioners.map((p) => p.name).join("、"), unit: ref.me.unit.name,
           at: new Date().toISOString() };
}

function slipHtml(facts, answer) {
  const receipt = answer ? esc(answer.receipt_no) : "待同步";
  return `<section id="slip" class="card" tabindex="-1" aria-labelledby="slip-title">
    <h2 id="slip-title">信访事项登记回执</h2>
    <p>回执编号</p><p class="receipt" id="receipt-no">${receipt}</p>
    ${answer ? "" : `<p class="refusal">网络已断开：本次登记已保存在本机，网络恢复后自动提交，回执编号届时生成（见「待同步」）。</p>`}
    <dl class="facts">
      <dt>信访人</dt><dd>${esc(facts.names)}</dd><dt>信访形式</dt><dd>${esc(facts.channel)}</dd>
      <dt>事项发生地</dt><dd>${esc(facts.place)}</dd><dt>内容分类</dt><dd>${esc(facts.category)}</dd>
      <dt>人数</dt><dd>${esc(facts.head_count)}</dd><dt>登记单位</dt><dd>${esc(facts.unit)}</dd>
      <dt>登记时间</dt><dd>${esc(when(facts.at))}</dd>
    </dl>
    <p class="hint">凭回执编号可查询办理进度。请妥善保管本回执。</p>
    <div class="actions"><button type="button" id="print" class="primary">打印回执</button>
      <button type="button" id="again">继续登记</button></div>
  </section>`;
}

function showSlip(body, answer) {
  view().innerHTML = slipHtml(slipFacts(body), answer) + repeatsHtml(answer, body);
  wireSlip();
}

function wireSlip() {
  $("#print").addEventListener("click", () => window.print());
  $("#again").addEventListener("click", () => registerPage());
  $("#slip").focus();
}

// possible_repeats: the matters the registration may repeat (when intake answers them): record a visit there instead
function repeatsHtml(answer, body) {
  const repeats = (answer && answer.possible_repeats) || [];
  if (!repeats.length) return "";
  lastBody = body;
  return `<section id="repeats" class="card"><h2>可能是重复信访</h2>
    <p class="hint">以下事项可能与本次登记相同。如确属同一事项，可改为在原事项上登记本次来访。</p>
    <ul>${repeats.map((r) => `<li>${esc(r.receipt_no)} ${esc(r.status_label || "")}
      <button type="button" class="visit-instead" data-id="${esc(r.petition_id)}">改为在此事项上登记来访</button></li>`).join("")}</ul>
    <p id="repeat-result" role="status"></p></section>`;
}

let lastBody = null;
document.addEventListener("click", async (e) => {
  if (!e.target.classList.contains("visit-instead")) return;
  const { channel, head_count, petitioners, summary } = lastBody;
  const path = `/v1/petitions/${e.target.dataset.id}/visits`;
  const body = { channel, head_count, petitioners, summary };
  await send(path, body, "来访", (answer) => { $("#repeat-result").textContent = `已在事项 ${answer.receipt_no} 上登记来访`; },
             (err) => { $("#repeat-result").textContent = problemText(err); });
});

// ---- the worklist and the unit's matters ---------------------------------------------------------------------

function leftText(item) {
  if (item.suspended) return `<span class="tag paused">${esc(item.due_label || "暂停")}</span>`;
  if (item.working_days_left === null) return "—";
  const n = item.working_days_left;
  const text = item.overdue ? `已超期${n < 0 ? `${-n}个工作日` : ""}` : n === 0 ? "今日到期" : `剩${n}个工作日`;
  const tag = item.overdue ? `<span class="tag overdue">超期</span>` : item.warned ? `<span class="tag warned">预警</span>` : "";
  return `${text}${tag}`;
}

// A list of up to 2,000 matters as an ARIA table of grid rows: each row is laid out and painted only when it nears
// the screen (content-visibility), so a 1,000-row worklist costs what its first screen costs; every row is in the
// page, read by screen readers and found by Ctrl+F.
function rowsHtml(items, withHolder) {
  const places = new Map(ref.places.map((p) => [p.code, p.name]));
  const categories = new Map(ref.categories.map((k) => [k.code, k.name]));
  const units = new Map(ref.units.map((u) => [u.id, u.name]));
  return items.map((item) => `<div role="row" tabindex="0" data-id="${item.petition_id}"
      class="row${item.overdue ? " overdue" : item.warned ? " warned" : ""}">
    <span role="cell">${esc(item.receipt_no)}</span><span role="cell">${esc(categories.get(item.category) || item.category)}</span>
    <span role="cell" class="wide">${esc(places.get(item.jurisdiction) || item.jurisdiction)}</span><span role="cell">${esc(item.status_label)}</span>
    ${withHolder ? `<span role="cell" class="wide">${esc(units.get(item.holder_unit) || item.holder_unit || "待交办")}</span>` : ""}
    <span role="cell">${item.next_due_at ? esc(when(item.next_due_at)) : "—"}</span><span role="cell" class="left">${leftText(item)}</span></div>`).join("");
}

function tableHtml(id, items, withHolder) {
  const head = ["回执编号", "内容分类", ["发生地"], "状态", ...(withHolder ? [["承办单位"]] : []), "办理期限", "剩余时间"];
  return `<div id="${id}" role="table" class="list${withHolder ? " with-holder" : ""}" aria-rowcount="${items.length + 1}">
    <div role="rowgroup"><div role="row" class="row head">${head.map((h) => Array.isArray(h)
      ? `<span role="columnheader" class="wide">${h[0]}</span>` : `<span role="columnheader">${h}</span>`).join("")}</div></div>
    <div role="rowgroup" class="body">${rowsHtml(items, withHolder)}</div></div>`;
}

function openRows(table) {
  const open = (row) => { if (row) location.hash = `#/matter/${row.dataset.id}`; };
  table.addEventListener("click", (e) => open(e.target.closest(".row[data-id]")));
  table.addEventListener("keydown", (e) => { if (e.key === "Enter") open(e.target.closest(".row[data-id]")); });
}

async function worklistPage() {
  view().innerHTML = `<section class="card"><h2>本单位待办</h2><p class="hint" id="worklist-count">读取中…</p></section>`;
  const items = await api("/v1/matters?view=worklist&limit=2000");
  performance.mark("worklist-data");
  view().innerHTML = `<section class="card"><h2>本单位待办</h2>
    <p class="hint" id="worklist-count">共 ${items.length} 件，最先到期的在前</p>${tableHtml("worklist", items, false)}</section>`;
  openRows($("#worklist"));
  document.body.dataset.rows = String(items.length);
}

async function mattersPage() {
  const { me, categories } = ref;
  const q = new URLSearchParams(location.hash.split("?")[1] || "");
  const choose = (name) => q.get(name) || "";
  view().innerHTML = `<section class="card"><h2>本单位及下级事项</h2>
    <form id="filters" class="filters">
      <div><label for="f-status">状态</label><select id="f-status" name="status"><option value="">全部</option>
        ${options(Object.entries(me.labels.status), choose("status"))}</select></div>
      <div><label for="f-tier">承办层级</label><select id="f-tier" name="tier"><option value="">全部</option>
        ${options(Object.entries(me.labels.tier), choose("tier"))}</select></div>
      <div><label for="f-category">内容分类</label><select id="f-category" name="category"><option value="">全部</option>
        ${options(categories.map((k) => [k.code, k.name]), choose("category"))}</select></div>
      <div><label for="f-overdue">是否超期</label><select id="f-overdue" name="overdue">
        ${options([["", "全部"], ["true", "已超期"], ["false", "未超期"]], choose("overdue"))}</select></div>
      <div><button type="submit" class="primary">筛选</button></div>
    </form><p class="hint" id="matters-count">读取中…</p><div id="matters-table"></div></section>`;
  $("#filters").addEventListener("submit", (e) => {
    e.preventDefault();
    const chosen = new URLSearchParams([...new FormData(e.target)].filter(([, v]) => v));
    location.hash = `#/matters?${chosen}`;
  });
  q.set("view", "scope");
  const items = await api(`/v1/matters?${q}`);
  $("#matters-count").textContent = `共 ${items.length} 件`;
  $("#matters-table").innerHTML = tableHtml("matters", items, true);
  openRows($("#matters"));
  document.body.dataset.rows = String(items.length);
}

// ---- a matter: its facts, its timeline, its actions ----------------------------------------------------------

const NEEDS = {  // the fields each action's form asks for (schemas.py: AcceptIn … WithdrawIn)
  accept: [["note", "受理意见（可不填）", "textarea", false]],
  decline: [["reason", "不予受理理由（告知信访人）", "textarea", true], ["redirect", "引导至其他法定途径", "redirect", false]],
  transfer: [["reason", "转送理由", "textarea", true], ["to_unit", "接收单位（可不选，由系统按规则交办）", "unit", false],
             ["category", "更正内容分类（可不选）", "category", false]],
  object: [["reason", "派单异议理由", "textarea", true]],
  extend: [["days", "延长天数", "days", true], ["reason", "延期理由", "textarea", true]],
  suspend: [["reason", "中止计时理由（如：听证）", "textarea", true]],
  resume: [],
  reply: "answer", reply_review: "answer", reply_recheck: "answer",
  request_review: [["reason", "复查请求理由", "textarea", true]],
  request_recheck: [["reason", "复核请求理由", "textarea", true]],
  evaluate: [["satisfaction", "信访人评价", "satisfaction", true]],
  withdraw: [["reason", "撤回原因（可不填）", "textarea", false]],
};
const ANSWER = [["decision", "处理结论", "decision", true], ["resolved", "事项是否已解决", "resolved", true],
                ["opinion", "处理意见", "textarea", true]];

function inputHtml([name, text, kind, required]) {
  const id = `act-${name}`, req = required ? " required" : "";
  const labels = ref.me.labels;
  const select = (pairs) => `<select id="${id}" name="${name}"${req}>${required ? "" : `<option value="">不选</option>`}${options(pairs)}</select>`;
  const control = {
    textarea: () => `<textarea id="${id}" name="${name}" maxlength="4000"${req}></textarea>`,
    days: () => `<input id="${id}" name="${name}" type="number" min="1" max="30" value="30"${req}>`,
    redirect: () => select(Object.entries(labels.redirect)),
    decision: () => select(Object.entries(labels.decision)),
    satisfaction: () => select(Object.entries(labels.satisfaction)),
    resolved: () => select([["true", "已解决"], ["false", "未解决"]]),
    unit: () => select(ref.units.map((u) => [u.id, u.name])),
    category: () => select(ref.categories.map((k) => [k.code, k.name])),
  }[kind]();
  return `<label for="${id}">${esc(text)}</label>${control}`;
}

function actionBody(name, form) {
  const body = { action: name };
  for (const el of form.querySelectorAll("[name]")) {
    const text = el.value.trim();
    if (!text) continue;
    body[el.name] = el.name === "days" ? Number(text) : el.name === "resolved" ? text === "true" : text;
  }
  return body;
}

async function matterPage(id) {
  const [matter, history] = await Promise.all([api(`/v1/petitions/${id}`), api(`/v1/petitions/${id}/timeline`)]);
  const labels = ref.me.labels;
  const units = new Map(ref.units.map((u) => [u.id, u.name]));
  const category = ref.categories.find((k) => k.code === matter.category);
  const place = ref.places.find((p) => p.code === matter.jurisdiction);
  const allowed = history.actions.filter((a) => a.allowed);
  const refused = history.actions.filter((a) => !a.allowed);
  view().innerHTML = `<section class="card"><h2>事项 ${esc(matter.receipt_no)} · <span id="status">${esc(matter.status_label)}</span></h2>
    <dl class="facts">
      <dt>内容分类</dt><dd>${esc(category ? category.name : matter.category)}</dd>
      <dt>发生地</dt><dd>${esc(place ? place.name : matter.jurisdiction)}</dd>
      <dt>承办单位</dt><dd>${esc(units.get(matter.holder_unit) || matter.holder_unit || "待交办")}
        ${matter.holder_tier ? `（${esc(labels.tier[matter.holder_tier])}）` : ""}</dd>
      <dt>办理期限</dt><dd>${matter.due.map((d) => `${esc(labels.stage[d.stage] || d.stage)} ${esc(when(d.due_at))}`).join("；") || "—"}
        ${matter.suspended ? `<span class="tag paused">暂停</span>` : ""}</dd>
      <dt>批次／人数</dt><dd>${matter.batches} 批 ／ ${matter.head_count} 人</dd>
      <dt>信访人</dt><dd>${matter.petitioners.map((p) => esc(p.erased ? "（已删除）" : p.name)).join("、") || "—"}</dd>
    </dl></section>
    <section class="card"><h2>办理操作</h2>
      <div class="actions" id="action-buttons">${allowed.map((a) =>
        `<button type="button" data-action="${a.action}">${esc(a.label)}</button>`).join("") || "<p class='hint'>本终端当前没有可做的操作</p>"}</div>
      <form id="action-form" class="hidden" novalidate></form>
      <p id="action-done" role="status"></p>
      <p id="action-error" class="refusal" role="alert"></p>
      ${refused.length ? `<details><summary>当前不可做的操作及原因</summary><ul id="refused-actions">${refused.map((a) =>
        `<li><b>${esc(a.label)}</b>：${esc(a.reason_zh)}</li>`).join("")}</ul></details>` : ""}
    </section>
    <section class="card"><h2>办理经过</h2><ol class="timeline" id="timeline">${history.entries.map((e) =>
      `<li class="${e.source}"><time datetime="${esc(e.occurred_at)}">${esc(when(e.occurred_at))}</time><b>${esc(e.label)}</b>
        ${esc(describe(e))}${e.recorded_at.slice(0, 16) !== e.occurred_at.slice(0, 16)
          ? `<span class="hint">（${esc(when(e.recorded_at))} 记录）</span>` : ""}</li>`).join("")}</ol></section>`;
  $("#action-buttons").addEventListener("click", (e) => {
    const name = e.target.dataset.action;
    if (name) actionForm(id, name, history.actions.find((a) => a.action === name).label);
  });
}

function describe(entry) {
  const d = entry.data, labels = ref.me.labels;
  const units = new Map(ref.units.map((u) => [u.id, u.name]));
  const parts = [];
  if (d.unit) parts.push(units.get(d.unit) || d.unit);
  if (d.to_unit) parts.push(`→ ${units.get(d.to_unit) || d.to_unit}`);
  if (d.decision) parts.push(labels.decision[d.decision]);
  if (d.resolved !== undefined && d.resolved !== null) parts.push(d.resolved ? "已解决" : "未解决");
  if (d.satisfaction) parts.push(labels.satisfaction[d.satisfaction]);
  if (d.days) parts.push(`${d.days}天`);
  for (const text of [d.reason, d.opinion, d.note, d.summary]) if (text) parts.push(text);
  if (d.head_count) parts.push(`${d.head_count}人`);
  return parts.length ? `：${parts.join("，")}` : "";
}

function actionForm(id, name, label) {
  const form = $("#action-form");
  const fields = NEEDS[name] === "answer" ? ANSWER : NEEDS[name];
  form.innerHTML = `<h3>${esc(label)}</h3>${fields.map(inputHtml).join("")}
    <div class="actions"><button type="submit" class="primary">确认${esc(label)}</button>
    <button type="button" id="action-cancel">取消</button></div>`;
  form.classList.remove("hidden");
  $("#action-error").textContent = "";
  (form.querySelector("[name]") || form.querySelector("button")).focus();
  $("#action-cancel").onclick = () => form.classList.add("hidden");
  form.onsubmit = async (e) => {
    e.preventDefault();
    const wrong = [...form.querySelectorAll("[name]")].find((el) => !el.checkValidity());
    if (wrong) { wrong.setAttribute("aria-invalid", "true"); return wrong.focus(); }
    await send(`/v1/petitions/${id}/actions`, actionBody(name, form), label,
               () => matterPage(id).then(() => { $("#action-done").textContent = `已${label}`; }),
               (err) => { $("#action-error").textContent = `未能${label}：${problemText(err)}`; });
  };
}

/** POST now, dated now; offline, queue that very request, its occurred time and key (待同步). */
async function send(path, fields, what, done, refused) {
  const key = newKey();
  const body = { ...fields, occurred_at: occurredNow() };
  try {
    done(await api(path, { method: "POST", body, key }));
  } catch (err) {
    if (!(err instanceof Offline)) return refused(err);
    await outbox.queue({ key, terminal_id: ref.me.terminal_id, path, what, body });
    await counted();
    say(`网络已断开：「${what}」已保存在本机，待同步`);
  }
}

// ---- 待同步 -------------------------------------------------------------------------------------------------

const STATES = { pending: ["pending", "待同步"], refused: ["refused", "被退回"], sent: ["sent", "已同步"] };

async function outboxPage() {
  const items = (await outbox.items()).filter((i) => i.terminal_id === ref.me.terminal_id);
  view().innerHTML = `<section class="card"><h2>待同步</h2>
    <p class="hint">断网时的登记和办理保存在本机，网络恢复后按顺序自动提交；被退回的请按原因处理后点「已知悉」。</p>
    <div class="actions"><button type="button" id="sync-now">立即同步</button></div>
    <table id="outbox"><thead><tr><th>内容</th><th>发生时间</th><th>状态</th><th>结果</th><th></th></tr></thead><tbody>
    ${items.map((i) => `<tr data-key="${esc(i.key)}" class="${i.state}"><td>${esc(i.what)}${i.slip ? `：${esc(i.slip.names)}` : ""}</td>
      <td>${esc(when(i.occurred_at))}</td>
      <td><span class="tag ${STATES[i.state][0]}">${STATES[i.state][1]}</span></td>
      <td>${i.state === "sent" && i.answer && i.answer.receipt_no ? `回执编号 <b>${esc(i.answer.receipt_no)}</b>` : ""}
        ${i.state === "refused" ? `<span class="refusal">${esc(i.problem.zh)}</span> <span class="hint">${esc(i.problem.en)}</span>` : ""}</td>
      <td>${i.state === "sent" && i.slip ? `<button type="button" class="slip">回执</button>` : ""}
        ${i.state !== "pending" ? `<button type="button" class="dismiss">已知悉</button>` : ""}</td></tr>`).join("")}
    </tbody></table>${items.length ? "" : "<p>没有待同步的内容</p>"}</section>`;
  $("#sync-now").addEventListener("click", () => syncNow());
  $("#outbox").addEventListener("click", async (e) => {
    const row = e.target.closest("tr[data-key]");
    const item = row && items.find((i) => i.key === row.dataset.key);
    if (!item) return;
    if (e.target.classList.contains("dismiss")) { await outbox.remove(item.key); await counted(); return outboxPage(); }
    if (e.target.classList.contains("slip")) { view().innerHTML = slipHtml(item.slip, item.answer); wireSlip(); }
  });
}

async function counted() {
  if (!ref) return;
  const mine = (await outbox.items()).filter((i) => i.terminal_id === ref.me.terminal_id);
  const waiting = mine.filter((i) => i.state === "pending").length;
  const refused = mine.filter((i) => i.state === "refused").length;
  $("#pending").textContent = String(waiting + refused);
  document.body.dataset.pending = String(waiting);
  document.body.dataset.refused = String(refused);
}

async function syncNow() {
  if (!ref || !navigator.onLine) return;
  await outbox.sync(ref.me.terminal_id, counted);
  await counted();
  if (document.body.dataset.page === "outbox") await outboxPage();
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
  ref = token ? session.reference() : null;
  if (token && !ref) await signIn(token).catch(() => { ref = null; });  // a token but no reference data yet
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
