// The console's service worker: adds the user's token to the page's requests for evidence (photos, recordings),
// which <img> and <audio> cannot send themselves. A recording's seek is a Range request: passed on as it is,
// so the server answers 206 with that part only. The token is asked of the page each time, never stored here.

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin || event.request.method !== "GET") return;
  if (!url.pathname.startsWith("/evidence/")) return;
  event.respondWith(withToken(event.request, event.clientId));
});

async function withToken(request, clientId) {
  const client = clientId ? await self.clients.get(clientId) : null;
  const token = client ? await askToken(client) : null;
  const headers = new Headers(request.headers);
  if (token) headers.set("Authorization", `Bearer ${token}`);
  return fetch(request.url, { headers, credentials: "omit", cache: "no-store", redirect: "follow" });
}

function askToken(client) {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => resolve(null), 5000);
    channel.port1.onmessage = (message) => {
      clearTimeout(timer);
      resolve(message.data?.token ?? null);
    };
    client.postMessage({ type: "token?" }, [channel.port2]);
  });
}
