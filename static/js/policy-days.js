// The card and the reception view say a policy is valid as the server wrote them, but the phone keeps them
// (static/js/sw.js) and shows them with no network days later: once the policy's last day is over, they must
// say «срок истёк», as the server would (webapp/registry/rules.py `status_on`). The last day is a Moscow date,
// and Moscow is UTC+3 all year (policy_codes/codec.py MOSCOW): the day is counted in Moscow, never in the
// phone's own time zone nor in UTC, so a phone in Vladivostok or in London turns at the same moment.
// An element with data-hidden-after="YYYY-MM-DD" goes once that day is over; one with data-shown-after comes.
(function () {
  "use strict";
  const MOSCOW_OFFSET_MS = 3 * 60 * 60 * 1000;

  function moscowToday() {
    return new Date(Date.now() + MOSCOW_OFFSET_MS).toISOString().slice(0, 10);
  }

  function update() {
    const today = moscowToday();
    document.querySelectorAll("[data-hidden-after]").forEach(function (element) {
      element.hidden = today > element.dataset.hiddenAfter;
    });
    document.querySelectorAll("[data-shown-after]").forEach(function (element) {
      element.hidden = !(today > element.dataset.shownAfter);
    });
  }

  update();
  // Left open at the desk past midnight, or brought back from the background.
  setInterval(update, 60 * 1000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") update();
  });
})();
