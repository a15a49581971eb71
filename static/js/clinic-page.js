// Reception page: keep the registry's lists fresh while online, and verify in the
// browser when the network is gone (issue #5).
//
// The form posts through htmx. When a post cannot be sent (htmx:sendError) or the
// browser already knows it is offline, the code is checked here against the stored
// lists instead, and the verdict says so, with the lists' age. So it is when the
// registry does not answer: it is unavailable (503, or 502/504 from a proxy), or no
// answer comes within the form's timeout (hx-request). A number or a legacy paper
// policy is a registry look-up: offline it is never "valid". The last verdict goes
// as soon as a new scan is sent, so that no answer, or a late one, never leaves it
// standing beside the new code.
//
// After every verdict, from the server or from here, the input takes the focus back
// with its text selected, so the next USB scan replaces it with no tap (issue 18),
// and the verdict's sound plays if the desk turned sound on (clinic-sound.js).

import { CODE_KIND, MOSCOW_OFFSET_MS, STALE_AFTER_MS, VERDICT } from "./format-constants.js";
import { listsAge, refreshLists, storedVerifier } from "./clinic-lists.js";
import { soundVerdict } from "./clinic-sound.js";

const REFRESH_EVERY_MS = 10 * 60 * 1000;

const root = document.getElementById("clinic");
const form = document.getElementById("scan-form");
const input = document.getElementById("code");
const verdictBox = document.getElementById("verdict");
const listsStatus = document.getElementById("offline-lists");
const registryJwks = JSON.parse(root.dataset.registryKeys);
/** Each verdict's headline and message, by "verdict" and by "verdict/shown" (policy_codes.verdicts.offline_words). */
const words = JSON.parse(root.dataset.words);
const urls = { trustList: root.dataset.trustListUrl, revocations: root.dataset.revocationsUrl };
/** A template's texts by their data-text name. */
function textsOf(template) {
  return Object.fromEntries(
    [...template.content.querySelectorAll("[data-text]")].map((node) => [node.dataset.text, node.textContent.trim()]),
  );
}
/** The offline verdict's words by why the registry was not asked: "no-network", or "no-answer" from it. */
const offlineTexts = Object.fromEntries(
  [...document.querySelectorAll("template[data-offline-texts]")].map((node) => [node.dataset.offlineTexts, textsOf(node)]),
);
const scanTexts = textsOf(document.getElementById("scan-texts"));
/** The server's headline and message for a typed number with a digit dropped or doubled, by its count of digits. */
const miscounted = JSON.parse(root.dataset.miscounted ?? "{}");

/** The words for a number of the wrong length, as the server says them (spaces and dashes aside); else undefined. */
function miscountedWords(scanned) {
  const digits = scanned.replace(/[\s-]/g, "");
  return /^[0-9]+$/.test(digits) ? miscounted[digits.length] : undefined;
}
const language = document.documentElement.lang || "ru";

/** "5 минут назад" / "5 minutes ago". */
function ago(ms) {
  const format = new Intl.RelativeTimeFormat(language, { numeric: "auto" });
  const minutes = Math.round(Math.max(ms, 0) / 60000); // a server clock ahead of ours is "now"
  if (minutes < 60) return format.format(-minutes, "minute");
  const hours = Math.round(minutes / 60);
  if (hours < 48) return format.format(-hours, "hour");
  return format.format(-Math.round(hours / 24), "day");
}

/** When the lists were issued, as omscode writes it (policy_codes/offline.py LISTS_DATE): Moscow time. */
function listsDate(ms) {
  const moscow = new Date(ms + MOSCOW_OFFSET_MS);
  const two = (number) => String(number).padStart(2, "0");
  const day = `${two(moscow.getUTCDate())}.${two(moscow.getUTCMonth() + 1)}.${moscow.getUTCFullYear()}`;
  return `${day} ${two(moscow.getUTCHours())}:${two(moscow.getUTCMinutes())}`;
}

function showListsStatus(record, verifier) {
  listsStatus.hidden = false;
  if (!record) {
    listsStatus.dataset.state = "failed";
    listsStatus.textContent = listsStatus.dataset.failed;
    return;
  }
  const age = listsAge(record, verifier);
  listsStatus.dataset.state = age > STALE_AFTER_MS ? "stale" : "ready";
  listsStatus.textContent = listsStatus.dataset.ready.replace("{age}", ago(age));
}

async function refresh() {
  if (navigator.onLine) {
    try {
      const { record, verifier } = await refreshLists(urls, registryJwks);
      showListsStatus(record, verifier);
      return;
    } catch {
      // keep what is stored, and say how old it is
    }
  }
  const stored = await storedVerifier(registryJwks);
  showListsStatus(stored?.record, stored?.verifier);
}

/** A date as the desk reads it: "2026-12-31" is "31.12.2026". */
function deskDate(iso) {
  const [year, month, day] = iso.split("-");
  return `${day}.${month}.${year}`;
}

/** The line on what the code is and its end, as the server's verdict has it: a temporary certificate's kind, and
 * its last day if it is valid; a policy's only when it has a last day and is valid (a live code's kind is not
 * in the code). */
function termsLine(verdict, terms) {
  const certificate = terms?.kind === CODE_KIND.TEMPORARY_CERTIFICATE;
  const ending = verdict === VERDICT.VALID && Boolean(terms?.validTo);
  if (!certificate && !(terms?.kind === CODE_KIND.POLICY && ending)) return null;
  const kind = scanTexts[certificate ? "temporary-certificate" : "policy"];
  return ending ? `${kind}, ${scanTexts["valid-until"].replace("{date}", deskDate(terms.validTo))}` : kind;
}

/** A verdict given here; with no verdict (null), `icon` says why: "offline" (the registry could not be asked, the
 * default) or "blocked" (the server refused the scan). `terms`: what the code is and its last day, from the code. */
function render({ verdict, headline, message, holder, terms, banner, stale, icon = "offline" }) {
  const template = document.getElementById("offline-verdict");
  const section = template.content.firstElementChild.cloneNode(true);
  const slot = (name) => section.querySelector(`[data-slot=${name}]`);
  const good = verdict === VERDICT.VALID;
  const shown = good ? "check" : verdict ? "cross" : icon;
  section.classList.add(good ? "verdict-good" : verdict ? "verdict-bad" : "verdict-unknown");
  section.dataset.verdict = verdict ?? "unchecked";
  section.dataset.good = String(good);
  for (const drawn of section.querySelectorAll(".verdict-headline [data-icon]")) {
    if (drawn.dataset.icon !== shown) drawn.remove();
  }
  slot("headline").textContent = headline;
  slot("message").textContent = message;
  if (banner) slot("banner-text").textContent = banner;
  else slot("banner").remove();
  slot("stale").hidden = !stale;
  const line = termsLine(verdict, terms);
  if (line) {
    slot("terms").textContent = line;
    slot("terms").hidden = false;
  }
  if (holder) {
    slot("holder").textContent = `${holder.name}, ${deskDate(holder.birthDate)}`;
    slot("holder").hidden = false;
    slot("match").hidden = false;
  }
  slot("emergency").hidden = good || template.dataset.aboutTheScan.split(" ").includes(verdict);
  verdictBox.replaceChildren(section);
  afterVerdict();
}

/** A camera is scanning: the phone is held up to a code, and a keyboard must not pop up over the verdict. */
function cameraScanning() {
  return document.getElementById("camera-toggle")?.getAttribute("aria-pressed") === "true";
}

/** The next scan replaces the last one instead of being typed after it, with no tap first. */
function readyForNextScan() {
  if (cameraScanning()) return;
  input.focus({ preventScroll: true });
  input.select();
}

/** The verdict in view (on a phone it can sit below the camera picture), its sound, and the input ready. */
function afterVerdict() {
  const section = verdictBox.querySelector("[data-good]");
  if (section) soundVerdict(section.dataset.good === "true");
  readyForNextScan();
  verdictBox.scrollIntoView({ block: "nearest" });
}

/** The server's words for what the browser found: a `valid` names the lists it goes by, not the registry. */
function wordsFor(result, lists) {
  const found = words[`${result.verdict}/${result.shown}`] ?? words[result.verdict];
  return { headline: found.headline, message: found.message.replace("{date}", listsDate(lists.issuedAt)) };
}

/** The scan is on its way: the last verdict is gone, and nothing stands in its place that could be read as one. */
function showChecking() {
  const waiting = document.createElement("p");
  waiting.className = "verdict-pending";
  waiting.textContent = scanTexts.checking;
  verdictBox.replaceChildren(waiting);
}

async function checkOffline(reason) {
  const texts = offlineTexts[reason];
  const scanned = input.value;
  const miscount = miscountedWords(scanned);
  if (miscount) {
    render({ verdict: VERDICT.NOT_A_POLICY_CODE, ...miscount }); // counted here: no list was needed
    return;
  }
  const stored = await storedVerifier(registryJwks);
  if (!stored) {
    render({ verdict: null, headline: texts.unchecked, message: texts["no-lists"] });
    return;
  }
  const result = await stored.verifier.verify(scanned);
  showListsStatus(stored.record, stored.verifier);
  if (result.verdict === null) {
    // A number or a paper policy needs the registry: nothing was checked, so nothing says it was.
    render({ verdict: null, headline: texts.unchecked, message: texts["registry-needed"] });
  } else if (result.shown === "number") {
    render({ verdict: result.verdict, ...wordsFor(result, stored.verifier) }); // a typo: no list was needed
  } else {
    const age = listsAge(stored.record, stored.verifier);
    render({
      verdict: result.verdict,
      ...wordsFor(result, stored.verifier),
      holder: result.holder,
      terms: result.terms,
      banner: texts.banner.replace("{age}", ago(age)),
      stale: age > STALE_AFTER_MS,
    });
  }
}

form.addEventListener("htmx:beforeRequest", (event) => {
  if (navigator.onLine) {
    showChecking();
  } else {
    event.preventDefault();
    checkOffline("no-network");
  }
});
form.addEventListener("htmx:sendError", () => checkOffline("no-network"));
form.addEventListener("htmx:timeout", () => checkOffline("no-answer"));
// A look-up refused by a limit (429) carries its message for the verdict area; htmx swaps no 4xx unless told
// (it asks the target, not the form).
verdictBox.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.xhr.status === 429) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
verdictBox.addEventListener("htmx:afterSwap", afterVerdict);
// No verdict came. The registry was unavailable (503), or the proxy in front found the server so: check here as
// with no network. Anything else (a form gone stale, a fault in the server) is said, and the scan can be repeated:
// a code that made the server fail must not get the browser's verdict, where a code revoked minutes ago still passes.
const UNAVAILABLE = new Set([502, 503, 504]);
form.addEventListener("htmx:responseError", (event) => {
  if (UNAVAILABLE.has(event.detail.xhr.status)) {
    checkOffline("no-answer");
  } else {
    render({ verdict: null, headline: scanTexts["not-sent"], message: scanTexts.reload, icon: "blocked" });
  }
});
window.addEventListener("online", refresh);

refresh();
setInterval(refresh, REFRESH_EVERY_MS);
