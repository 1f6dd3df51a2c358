// The terminal loads offline once visited, and as fast on a slow village line as on the county's LAN.
// Its files are kept in a cache named after their version: intake serves this script with the hash of every file of
// the terminal in place of __VERSION__, so any change to any file makes a new worker, which caches the new files and
// deletes the old ones (the browser checks this script on every visit). Where the browser has static routing
// (Chromium 123+), the terminal's files come straight from that cache and API calls straight from the network,
// neither waking this worker; elsewhere the fetch handler below does the same by hand, fetching a fresh copy
// beside the cached one (stale-while-revalidate). API calls are never cached here: they carry a token and personal
// data; the page queues what it could not send.
const CACHE = "xinfang-terminal-__VERSION__";
const FILES = ["./", "index.html", "style.css", "app.js", "api.js", "common.js", "idcard.js", "lists.js", "lookup.js",
               "matter.js", "outbox.js", "queue.js", "register.js"];
const RECHECK_MS = 60_000;
const checked = new Map();  // path → when its fresh copy was last asked for (while this worker runs)

self.addEventListener("install", (event) => {
  // static routing: each request without a fetch event (which costs a worker's turn per file under load)
  const direct = event.addRoutes && typeof URLPattern !== "undefined"
    ? event.addRoutes([
      { condition: { urlPattern: new URLPattern({ pathname: "/v1/*" }) }, source: "network" },
      { condition: { urlPattern: new URLPattern({ pathname: "/terminal/*" }), requestMethod: "GET" }, source: "cache" },
    ]).catch(() => {})
    : Promise.resolve();
  event.waitUntil(Promise.all([direct, caches.open(CACHE).then((cache) => cache.addAll(FILES))])
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin || !url.pathname.startsWith("/terminal/")) return;
  event.respondWith(caches.open(CACHE).then(async (cache) => {
    const cached = await cache.match(event.request, { ignoreSearch: true });
    const refresh = () => fetch(event.request).then((response) => {
      if (response.ok) cache.put(event.request, response.clone());
      return response;
    });
    if (!cached) return refresh().catch(() => cache.match("index.html"));
    if (Date.now() - (checked.get(url.pathname) || 0) > RECHECK_MS) {  // reloads in a row ask the server once
      checked.set(url.pathname, Date.now());
      event.waitUntil(refresh().catch(() => {}));  // offline: the copy we have is the page
    }
    return cached;
  }));
});
