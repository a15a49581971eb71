// A short sound on each verdict, as desk scanners beep (issue 18): two rising notes for a valid policy,
// one low buzz for anything else, so the clerk hears the result while looking at the patient.
//
// Off unless the desk turns it on; the choice is kept in this browser (localStorage). The notes are
// made with WebAudio: no sound file to fetch, cache or allow in the CSP. Browsers let a page make sound
// only after the user acts on it, so the audio is woken by a click or a key (a USB scanner types, then
// presses Enter), never by the verdict itself.

const STORAGE_KEY = "oms-clinic-sound";
/** Seconds from the verdict; a 10 ms ramp in and out keeps each note from clicking. */
const NOTES = {
  good: [
    { type: "sine", frequency: 880, at: 0, length: 0.09 },
    { type: "sine", frequency: 1320, at: 0.12, length: 0.14 },
  ],
  bad: [{ type: "square", frequency: 220, at: 0, length: 0.35 }],
};
const VOLUME = 0.15;
const RAMP = 0.01;

const choice = document.getElementById("sound-choice");
const toggle = document.getElementById("sound-toggle");
let audio = null;

function remembered() {
  try {
    return localStorage.getItem(STORAGE_KEY) === "on";
  } catch {
    return false; // storage refused (a private window): off, as by default
  }
}

function remember(on) {
  try {
    if (on) localStorage.setItem(STORAGE_KEY, "on");
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // not kept: it still holds until the page is left
  }
}

/** Make or wake the audio within the user's own action, if sound is on. */
function wake() {
  if (!toggle.checked) return;
  audio ??= new AudioContext();
  if (audio.state === "suspended") audio.resume().catch(() => {});
}

function play({ type, frequency, at, length }) {
  const start = audio.currentTime + RAMP + at;
  const oscillator = new OscillatorNode(audio, { type, frequency });
  const gain = new GainNode(audio, { gain: 0 });
  gain.gain.setValueAtTime(0, start);
  gain.gain.linearRampToValueAtTime(VOLUME, start + RAMP);
  gain.gain.setValueAtTime(VOLUME, start + length - RAMP);
  gain.gain.linearRampToValueAtTime(0, start + length);
  oscillator.connect(gain).connect(audio.destination);
  oscillator.start(start);
  oscillator.stop(start + length);
}

/** The verdict's sound, if the desk asked for sound: `good` for a valid policy. */
export function soundVerdict(good) {
  if (!toggle?.checked || !audio) return;
  for (const note of good ? NOTES.good : NOTES.bad) play(note);
}

if (choice && "AudioContext" in window) {
  choice.hidden = false;
  toggle.checked = remembered();
  toggle.addEventListener("change", () => {
    remember(toggle.checked);
    wake();
  });
  document.addEventListener("pointerdown", wake, true);
  document.addEventListener("keydown", wake, true);
}
