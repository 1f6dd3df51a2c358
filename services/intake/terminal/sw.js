// The terminal loads offline once visited, and as fast on a slow village line as on the county's LAN: its own files
// come from this cache at once while a fresh copy is fetched beside them for the next load (stale-while-revalidate:
// an update reaches a terminal at its second load after it; each file is asked for at most once a minute); a file
// not cached yet comes from the network. API calls are never cached here: they carry a token and personal data; the
// page queues what it could not send.
const CACHE = "xinfang-terminal-v3";  // a new name when FILES changes: the old cache is deleted on activation
const FILES = ["./", "index.html", "style.css", "app.js", "api.js", "common.js", "idcard.js", "lists.js", "matter.js",
               "outbox.js", "queue.js", "register.js"];
const RECHECK_MS = 60_000;
const checked = new Map();  // path → when its fresh copy was last asked for (while this worker runs)

self.addEventListener("install", (event) => {
  // API calls go to the network without waking this worker (static routing, where the browser has it): otherwise
  // each would wait for a fetch event that only lets it through
  const direct = event.addRoutes && typeof URLPattern !== "undefined"
    ? event.addRoutes({ condition: { urlPattern: new URLPattern({ pathname: "/v1/*" }) }, source: "network" })
      .catch(() => {})
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
