// The terminal API, with the terminal's token on every call.
// The token lives in sessionStorage: this tab only, kept across reloads (an offline reload still knows it),
// gone when the tab closes; never in a cookie (the browser would send it by itself), a URL or IndexedDB.
const TOKEN = "xinfang.terminal_token";
const REFERENCE = "xinfang.terminal_reference";

export const session = {
  token: () => sessionStorage.getItem(TOKEN),
  start(token) { sessionStorage.setItem(TOKEN, token); },
  end() { sessionStorage.removeItem(TOKEN); sessionStorage.removeItem(REFERENCE); },
  reference() { const raw = sessionStorage.getItem(REFERENCE); return raw ? JSON.parse(raw) : null; },
  keep(reference) { sessionStorage.setItem(REFERENCE, JSON.stringify(reference)); },
};

/** An answer of the server that is not a success: problem+json, with the reason in Chinese and English. */
export class Problem extends Error {
  constructor(status, body) {
    super((body && body.detail_zh) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
  get zh() { return this.body.detail_zh || `服务器答复 ${this.status}`; }
  get en() { return this.body.detail_en || ""; }
  get code() { return this.body.code || ""; }
  /** Worth sending again later (the server was busy or another copy is in flight), not a refusal. */
  get transient() { return this.status >= 500 || this.status === 429 || this.code === "idempotency.in_flight"; }
}

/** The request did not reach the server (no network): the caller queues it. */
export class Offline extends Error {}

export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));  // an insecure context (plain http on a LAN) has no randomUUID
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

// The terminal PC's clock may be wrong; intake's is the one facts are dated by. Each answer's Date header says how
// far off this one is: intake's clock read it within [Date, Date + 1 s) (the header has whole seconds), somewhere
// between the request leaving (sent) and the answer arriving (received) on this clock. Only a Date outside that
// window by more than 2 s is a wrong clock; a slow answer (a loaded server, a village link) is not, and must not
// move the page's facts back in time (an action dated before the matter reached the unit would be refused).
const CLOCK = "xinfang.clock_offset_ms";

export function clockOffset(date, sent, received) {
  const server = Date.parse(date || "");
  if (Number.isNaN(server)) return null;
  if (server + 1000 + 2000 < sent || server - 2000 > received) return Math.round(server + 500 - (sent + received) / 2);
  return 0;
}

function learnClock(date, sent, received) {
  const offset = clockOffset(date, sent, received);
  if (offset !== null) sessionStorage.setItem(CLOCK, String(offset));
}

/** Now, on intake's clock as far as this page knows it: when a fact the clerk enters occurred. */
export function occurredNow() {
  return new Date(Date.now() + Number(sessionStorage.getItem(CLOCK) || 0)).toISOString();
}

export async function api(path, { method = "GET", body, key, token } = {}) {
  const headers = { Authorization: `Bearer ${token || session.token()}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (key) headers["Idempotency-Key"] = key;
  let response;
  const sent = Date.now();
  try {
    response = await fetch(path, { method, headers, cache: "no-store",
                                   body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new Offline(String(err));
  }
  learnClock(response.headers.get("Date"), sent, Date.now());
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { detail_zh: text.slice(0, 200) }; }
  if (!response.ok) throw new Problem(response.status, data);
  return data;
}

/** A document the server made (a notice's PDF), as a Blob: with the token, never cached. */
export async function fetchDocument(path) {
  let response;
  try {
    response = await fetch(path, { headers: { Authorization: `Bearer ${session.token()}` }, cache: "no-store" });
  } catch (err) {
    throw new Offline(String(err));
  }
  if (!response.ok) throw new Problem(response.status, await response.json().catch(() => null));
  return response.blob();
}
