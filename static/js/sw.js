// The service worker: the holder's last code stays viewable with no network (served at /sw.js, scope /).
//
// Personal data in the cache: only the logged-in citizen's own pages are kept — /me/, /me/show and
// the static code pictures, for themself and the people they represent — and only on their own phone,
// so the code can be shown at a reception desk with no signal. That is acceptable there and nowhere
// else: clinic, insurer and admin pages, the API, the live code and downloads are never stored.
// Logging out, a /me/ page answering with a redirect (the session is over), or a page that signs
// someone in (login, first sign-in, recovery: static/js/pwa.js) drops the personal cache, so the next
// person to sign in on the phone never sees the previous one's code.
// A kept page the server no longer has (404: the code was withdrawn, the policy suspended or
// terminated) is dropped, so the phone does not go on showing a code that is no longer good. On a weak signal
// a page is answered from the kept copy after NETWORK_WAIT_MS, the page a form leads to after FORM_WAIT_MS. The
// card says whom it names (the holder and those they represent): the pages kept for anyone else (a
// child come of age, whose pages no card links to any more) are dropped when it is shown.
"use strict";

const VERSION = "v1";
const SHELL = "oms-shell-" + VERSION;
const PERSONAL = "oms-personal-" + VERSION;
const SHELL_FILES = [
  "/static/css/app.css",
  "/static/vendor/htmx/htmx.min.js",
  "/static/js/live-code.js",
  "/static/js/show-at-reception.js",
  "/static/js/policy-days.js",
  "/static/js/pwa.js",
  "/static/favicon.svg",
  "/static/manifest.webmanifest",
  "/static/icons/icon-192.png",
  "/static/icons/icon-512.png",
];
const SHELL_PATHS = new Set(SHELL_FILES);
const PERSONAL_PATHS = new Set(["/me/", "/me/show", "/me/code.svg", "/me/barcode.svg"]);
const KEPT_COPY_FETCH = { credentials: "same-origin", redirect: "manual", headers: { "X-Kept-Copy": "1" } };
const NETWORK_WAIT_MS = 4000; // a weak signal: after this, show the kept copy and let the network finish
// The page a form leads to says whether it went through; the kept copy, older, would not (and the message, shown
// once, would be lost to it). So the first page opened within FORM_ANSWER_MS of a form is waited for longer.
const FORM_ANSWER_MS = 60000;
const FORM_WAIT_MS = 20000;
let formSentAt = -Infinity; // lost if the browser stops this worker meanwhile: then a weak signal shows the kept copy

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL)
      .then(function (cache) { return cache.addAll(SHELL_FILES); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys()
      .then(function (names) {
        const old = names.filter(function (name) { return name !== SHELL && name !== PERSONAL; });
        return Promise.all(old.map(function (name) { return caches.delete(name); }));
      })
      .then(function () { return self.clients.claim(); })
  );
});

function isPersonal(url) {
  return url.origin === self.location.origin && PERSONAL_PATHS.has(url.pathname) && !url.searchParams.has("download");
}

function forget() {
  return caches.delete(PERSONAL);
}

// Keep a good answer, unless it shows a message once (X-Shown-Once: webapp/web/messages.py); a redirect means there
// is no citizen session any more (login page, or another role), and a 404 that the page is gone (no current code).
async function keep(cache, key, response) {
  if (response.type === "opaqueredirect" || response.redirected) {
    await forget();
  } else if (response.ok && !response.headers.has("X-Shown-Once")) {
    await cache.put(key, response.clone());
  } else if (response.status === 404) {
    await cache.delete(key, { ignoreVary: true });
  }
  return response;
}

async function networkFirst(event) {
  const key = event.request.url;
  const cache = await caches.open(PERSONAL);
  const network = fetch(event.request).then(function (response) { return keep(cache, key, response); });
  event.waitUntil(network.catch(function () { return undefined; }));
  const kept = await cache.match(key, { ignoreVary: true });
  if (!kept) return network;
  let wait = NETWORK_WAIT_MS;
  if (event.request.mode === "navigate" && Date.now() - formSentAt < FORM_ANSWER_MS) {
    formSentAt = -Infinity;
    wait = FORM_WAIT_MS;
  }
  const slow = new Promise(function (resolve) { setTimeout(resolve, wait, kept); });
  return Promise.race([network.catch(function () { return kept; }), slow]);
}

// App shell: answer from the cache at once, refresh it in the background.
async function shellFirst(event) {
  const cache = await caches.open(SHELL);
  const kept = await cache.match(event.request, { ignoreVary: true });
  const network = fetch(event.request).then(function (response) {
    if (response.ok) return cache.put(event.request, response.clone()).then(function () { return response; });
    return response;
  });
  if (!kept) return network;
  event.waitUntil(network.catch(function () { return undefined; }));
  return kept;
}

// The card asks for the pages it links to (the reception view, the code pictures) to be kept before
// they are needed offline; what is already kept is refreshed when it is next visited online.
// `again`: pages kept anew even if kept already (one kept with a message shown once). Each is fetched with
// the header X-Kept-Copy, so the server leaves the messages shown once to the page the person asks for: a form
// they send meanwhile (a slow network) keeps its message (webapp/web/messages.py).
async function rememberAll(hrefs, again) {
  const cache = await caches.open(PERSONAL);
  for (const href of new Set(again.concat(hrefs))) {
    const url = new URL(href, self.location.origin);
    const fresh = again.includes(href);
    if (!isPersonal(url) || (!fresh && (await cache.match(url.href, { ignoreVary: true })))) continue;
    try {
      await keep(cache, url.href, await fetch(url.href, KEPT_COPY_FETCH));
    } catch (offline) {
      return;
    }
  }
}

// Keep the pages of the people in `household` only (their `person`, "" for the holder's own).
async function keepOnly(household) {
  const named = new Set(household);
  const cache = await caches.open(PERSONAL);
  for (const request of await cache.keys()) {
    if (!named.has(new URL(request.url).searchParams.get("person") || "")) await cache.delete(request);
  }
}

self.addEventListener("message", function (event) {
  const message = event.data || {};
  if (message.type === "forget") event.waitUntil(forget());
  if (message.type === "remember" && Array.isArray(message.urls)) {
    const household = Array.isArray(message.household) ? keepOnly(message.household) : Promise.resolve();
    const again = Array.isArray(message.again) ? message.again : [];
    event.waitUntil(household.then(function () { return rememberAll(message.urls, again); }));
  }
});

self.addEventListener("fetch", function (event) {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === "/logout") {
    event.waitUntil(forget());
    return;
  }
  if (request.method !== "GET") {
    if (request.method === "POST" && request.mode === "navigate") formSentAt = Date.now();
    return;
  }
  if (isPersonal(url)) {
    event.respondWith(networkFirst(event));
  } else if (SHELL_PATHS.has(url.pathname)) {
    event.respondWith(shellFirst(event));
  }
  // Anything else (other roles' pages, the API, /me/live, downloads) goes to the network untouched.
});
