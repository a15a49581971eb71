// "Show at reception": keep the screen on while the code is shown, where the
// browser allows it (Screen Wake Lock API), and take it back when hidden.
(function () {
  "use strict";
  let lock = null;
  async function keepAwake() {
    if (!("wakeLock" in navigator) || document.visibilityState !== "visible") return;
    try {
      lock = await navigator.wakeLock.request("screen");
      document.body.dataset.wakeLock = "on";
    } catch (error) {
      document.body.dataset.wakeLock = "refused";  // battery saver, or not allowed: the page still works
    }
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && (lock === null || lock.released)) keepAwake();
  });
  keepAwake();
})();
