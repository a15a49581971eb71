// Scan with the phone's or tablet's camera (issue #4).
//
// Reads QR codes and Code128 continuously with the BarcodeDetector API, or with
// the vendored barcode-detector ponyfill (zxing-wasm, its .wasm served from our
// own static folder) where the browser has none. Each read goes through the same
// htmx form as a USB scanner, so the verdict arrives the same way, online or not.
// Without JavaScript the button stays hidden and the form works as before.

const FORMATS = ["qr_code", "code_128"];
const SCAN_EVERY_MS = 150;
/** The same code read again within this long of its last sighting is the same scan. */
const SAME_CODE_MS = 3000;

const root = document.getElementById("clinic");
const form = document.getElementById("scan-form");
const input = document.getElementById("code");
const button = document.getElementById("camera-toggle");
const video = document.getElementById("camera-video");
const status = document.getElementById("camera-status");

let stream = null;
let last = { text: null, seenAt: 0 };

function say(key) {
  status.textContent = status.dataset[key];
  status.dataset.state = key;
  status.hidden = false;
}

async function nativeDetector() {
  if (!("BarcodeDetector" in window)) return null;
  try {
    const supported = await window.BarcodeDetector.getSupportedFormats();
    return FORMATS.every((format) => supported.includes(format)) ? new window.BarcodeDetector({ formats: FORMATS }) : null;
  } catch {
    return null;
  }
}

async function vendoredDetector() {
  const { BarcodeDetector, prepareZXingModule } = await import(root.dataset.barcodeDetector);
  const wasm = new URL(root.dataset.zxingWasm, document.baseURI).href;
  await prepareZXingModule({
    overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? wasm : prefix + path) },
    fireImmediately: true,
  });
  return new BarcodeDetector({ formats: FORMATS });
}

let detectorPromise = null;

function detector() {
  detectorPromise ??= nativeDetector()
    .then((native) => native ?? vendoredDetector())
    .catch((error) => {
      detectorPromise = null; // try again on the next start
      throw error;
    });
  return detectorPromise;
}

function submit(text) {
  const now = Date.now();
  if (text === last.text && now - last.seenAt < SAME_CODE_MS) {
    last.seenAt = now;
    return;
  }
  last = { text, seenAt: now };
  input.value = text;
  form.requestSubmit();
}

/** The signed QR when a frame holds it, else the ЕНП's barcode: a holder's card shows both, in either order as held. */
function chosen(codes) {
  return codes.find((code) => code.format === "qr_code") ?? codes[0];
}

async function scanLoop(reader, active) {
  while (stream === active) {
    if (video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA) {
      try {
        const code = chosen(await reader.detect(video));
        if (code?.rawValue && stream === active) submit(code.rawValue);
      } catch {
        // a frame that could not be read: try the next one
      }
    }
    await new Promise((resolve) => setTimeout(resolve, SCAN_EVERY_MS));
  }
}

function problem(error) {
  if (error?.name === "NotAllowedError" || error?.name === "SecurityError") return "denied";
  if (error?.name === "NotFoundError" || error?.name === "OverconstrainedError") return "absent";
  return "busy";
}

async function start() {
  say("starting");
  button.disabled = true;
  let reader;
  let opened;
  try {
    opened = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false });
  } catch (error) {
    say(problem(error));
    button.disabled = false;
    return;
  }
  try {
    reader = await detector();
  } catch {
    opened.getTracks().forEach((track) => track.stop());
    say("noDecoder");
    button.disabled = false;
    return;
  }
  stream = opened;
  last = { text: null, seenAt: 0 };
  video.srcObject = stream;
  video.hidden = false;
  await video.play().catch(() => {});
  button.textContent = button.dataset.stop;
  button.setAttribute("aria-pressed", "true");
  button.disabled = false;
  say("hint");
  scanLoop(reader, stream);
}

function stop() {
  if (stream) stream.getTracks().forEach((track) => track.stop());
  stream = null;
  video.srcObject = null;
  video.hidden = true;
  status.hidden = true;
  button.textContent = button.dataset.start;
  button.setAttribute("aria-pressed", "false");
}

if (navigator.mediaDevices?.getUserMedia) {
  button.hidden = false;
  button.setAttribute("aria-pressed", "false");
  button.addEventListener("click", () => (stream ? stop() : start()));
  window.addEventListener("pagehide", stop);
}
