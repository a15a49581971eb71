// The holder's page swaps in a fresh live code every 30 s (htmx). A live code
// runs out after 90 s, so when the network goes away or a refresh fails, the
// static code (good offline and on paper) comes back instead of a stale one.
(function () {
  "use strict";
  const box = document.getElementById("live");
  if (!box) return;
  const staticCode = box.innerHTML;
  const LIVE_LIFETIME_MS = 85 * 1000;
  let expiry = null;

  function showStatic() {
    clearTimeout(expiry);
    expiry = null;
    box.innerHTML = staticCode;
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
