// Installable app and offline code: the citizen's pages register the service worker (static/js/sw.js,
// served at /sw.js) and ask it to keep the pages the card links to; any page without a session (the
// login page) tells it to drop what it kept, so the next person on this phone never sees it. So does a
// page that signs someone in, even while someone still is (they did not log out): whoever signs in there
// replaces that session, and its kept pages (the code to show at reception) would be shown to them.
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) return;
  const signedIn = document.querySelector('form[action$="/logout"]') !== null;
  const signsIn = ["/login", "/activate", "/recover"].includes(location.pathname);

  if (!signedIn || signsIn) {
    navigator.serviceWorker.getRegistration("/").then(function (registration) {
      if (registration && registration.active) registration.active.postMessage({ type: "forget" });
    });
    return;
  }
  if (!location.pathname.startsWith("/me/")) return;

  // Read now, before the live code replaces the static picture.
  const urls = [location.href];
  document.querySelectorAll('a[href^="/me/show"], img[src^="/me/code.svg"], img[src^="/me/barcode.svg"]')
    .forEach(function (element) { urls.push(element.href || element.src); });
  // The card names the people whose pages the phone may keep: the holder ("") and those they represent (its
  // switcher). A child come of age leaves it, and the pages kept for them go with them. Not from a card shown
  // with no network: that is a kept copy, which may be older than someone added since.
  let household = null;
  if (location.pathname === "/me/" && navigator.onLine) {
    household = [""];
    document.querySelectorAll("nav.people a").forEach(function (link) {
      household.push(new URL(link.href).searchParams.get("person") || "");
    });
  }

  // A page shown with a message (a request sent, a card taken off) was kept with it: kept again now, the message
  // shown once, so that the phone with no network does not say it again at every look.
  const again = navigator.onLine && document.querySelector("main > p.flash[role=alert]") ? [location.href] : [];

  navigator.serviceWorker.register("/sw.js", { scope: "/" })
    .then(function () { return navigator.serviceWorker.ready; })
    .then(function (registration) {
      registration.active.postMessage({ type: "remember", urls: urls, household: household, again: again });
      document.documentElement.dataset.offlineReady = "yes";
    })
    .catch(function () {
      document.documentElement.dataset.offlineReady = "no"; // private mode or storage refused: online only
    });
})();
