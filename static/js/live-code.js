// The holder's page swaps in a fresh live code every 30 s (htmx). A live code
// runs out after 90 s, so when the network goes away or a refresh fails, the
// static code (good offline and on paper) comes back instead of a stale one.
// The static picture's own element comes back, already loaded: a new one would be fetched again,
// and that fails when the session has ended (a 401 on the refresh, webapp/web/auth.py) as when offline.
(function () {
  "use strict";
  const box = document.getElementById("live");
  if (!box) return;
  const staticCode = Array.from(box.childNodes);
  const LIVE_LIFETIME_MS = 85 * 1000;
  let expiry = null;

  function showStatic() {
    clearTimeout(expiry);
    expiry = null;
    box.replaceChildren(...staticCode);
    box.dataset.showing = "static";
  }

  box.addEventListener("htmx:afterSwap", function () {
    box.dataset.showing = "live";
    clearTimeout(expiry);
    expiry = setTimeout(showStatic, LIVE_LIFETIME_MS);
  });
  box.addEventListener("htmx:sendError", showStatic);
  box.addEventListener("htmx:responseError", showStatic);
  window.addEventListener("offline", showStatic);
})();
