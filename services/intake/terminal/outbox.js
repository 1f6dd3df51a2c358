// 待同步: registrations and actions made while the network was down, kept in IndexedDB until the server took them.
// Each keeps the Idempotency-Key it was first tried with and its occurred time, so sending it again can never make a
// second matter, and intake counts it when it happened (within the county's offline window).
// An item ends only as "sent" (with the server's answer) or "refused" (with the server's reason): the clerk sees
// both and dismisses them; nothing is dropped silently.
import { api, Offline, Problem } from "./api.js";

const DB = "xinfang-terminal", STORE = "outbox";
let opened = null;

function db() {
  opened = opened || new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "key" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opened;
}

async function run(mode, work) {
  const store = (await db()).transaction(STORE, mode).objectStore(STORE);
  return new Promise((resolve, reject) => {
    const request = work(store);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export const put = (item) => run("readwrite", (s) => s.put(item));
export const remove = (key) => run("readwrite", (s) => s.delete(key));
export async function items() {
  return (await run("readonly", (s) => s.getAll())).sort((a, b) => a.created - b.created);
}

/** Queue a request that could not be sent: {key, terminal_id, path, body, what, slip?}. */
export function queue(entry) {
  return put({ ...entry, occurred_at: entry.body.occurred_at, state: "pending", created: Date.now(), problem: null,
               answer: null });
}

let syncing = null;

/** Send this terminal's pending items, oldest first; stops at the first that cannot be sent now. */
export function sync(terminalId, changed = () => {}) {
  syncing = syncing || (async () => {
    try {
      for (const item of await items()) {
        if (item.state !== "pending" || item.terminal_id !== terminalId) continue;
        try {
          const answer = await api(item.path, { method: "POST", body: item.body, key: item.key });
          await put({ ...item, state: "sent", answer, body: null, sent: Date.now() });  // the personal data goes
        } catch (err) {
          if (err instanceof Offline || (err instanceof Problem && (err.transient || err.status === 401))) break;
          await put({ ...item, state: "refused", problem: { status: err.status, zh: err.zh, en: err.en, code: err.code } });
        }
        changed();
      }
    } finally {
      syncing = null;
    }
  })();
  return syncing;
}
