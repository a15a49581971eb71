// A secret shown once (a generated password, an API token, a one-time code) copied by a button
// (templates/_copy.html) that copies the text of the element just before it. The clipboard API where
// the browser allows it; elsewhere (no secure context, permission refused) the text is selected, and
// copied the old way where that still works, else left selected for the person to copy.
(function () {
  "use strict";

  function say(button, state) {
    for (const label of button.querySelectorAll("[data-state]")) label.hidden = label.dataset.state !== state;
    const status = button.nextElementSibling;
    status.textContent = button.querySelector(`[data-state="${state}"]`).textContent.trim();
  }

  function select(element) {
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  async function copy(button) {
    const secret = button.previousElementSibling;
    try {
      await navigator.clipboard.writeText(secret.textContent.trim());
      say(button, "copied");
    } catch {
      select(secret);
      say(button, document.execCommand("copy") ? "copied" : "selected");
    }
  }

  for (const button of document.querySelectorAll("[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", function () {
      copy(button);
    });
  }
})();
