// What every page of the terminal shares: the DOM helpers, the terminal signed in, sending a request that may
// have to wait for the network (待同步), and the queue's count in the menu.
import { api, newKey, occurredNow, Offline, Problem } from "./api.js";
import * as outbox from "./outbox.js";

export const $ = (selector, root = document) => root.querySelector(selector);
export const view = () => $("#view");
const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (ch) => ESCAPES[ch]);
export const options = (pairs, chosen = "") =>
  pairs.map(([value, text]) => `<option value="${esc(value)}"${value === chosen ? " selected" : ""}>${esc(text)}</option>`).join("");
// one formatter for every date of a page: toLocaleString() builds one per call (a third of a 1,000-row worklist's time)
const CLOCK_FORMAT = new Intl.DateTimeFormat("zh-CN", { dateStyle: "short", timeStyle: "short", hour12: false });
export const when = (iso) => iso ? CLOCK_FORMAT.format(new Date(iso)) : "—";
export let ref = null;  // {me, places, categories, units}: kept in the session, so an offline reload still has them
export function setRef(value) { ref = value; }

export function say(message) { $("#error").textContent = message; }

export function problemText(err) {
  if (!(err instanceof Problem)) return String(err.message || err);
  const fields = (err.body.errors || []).map((f) => `${f.field}：${f.message_zh}`).join("；");
  return `${err.zh}${fields ? `（${fields}）` : ""}`;
}

/** POST now, dated now; offline, queue that very request, its occurred time and key (待同步). */
export async function send(path, fields, what, done, refused) {
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

export async function counted() {
  if (!ref) return;
  const mine = (await outbox.items()).filter((i) => i.terminal_id === ref.me.terminal_id);
  const waiting = mine.filter((i) => i.state === "pending").length;
  const refused = mine.filter((i) => i.state === "refused").length;
  $("#pending").textContent = String(waiting + refused);
  document.body.dataset.pending = String(waiting);
  document.body.dataset.refused = String(refused);
}
