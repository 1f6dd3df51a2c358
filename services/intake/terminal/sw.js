// The terminal loads offline once visited: its own files come from the network when it answers (so an update
// lands at once) and from this cache when it does not. API calls are never cached here: they carry a token and
// personal data; the page queues what it could not send (outbox.js).
const CACHE = "xinfang-terminal-v1";
const FILES = ["./", "index.html", "style.css", "app.js", "api.js", "outbox.js", "idcard.js"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin || !url.pathname.startsWith("/terminal/")) return;
  event.respondWith(fetch(event.request).then((response) => {
    if (response.ok) {
      const copy = response.clone();
      caches.open(CACHE).then((cache) => cache.put(event.request, copy));
    }
    return response;
  }).catch(() => caches.match(event.request, { ignoreSearch: true })
    .then((hit) => hit || caches.match("index.html"))));
});
