// The registry's trust list and revocation list, kept in IndexedDB for checks with no network.
//
// While online, the reception page fetches both (GET /api/v1/trust-list and
// /api/v1/revocations), checks them by the rule of the published lists
// (docs/code-format.md) against the pinned registry key, refuses any older than
// those it holds (a replay), and stores them with the time they were fetched.
// IndexedDB, not localStorage: a regional revocation list outgrows 5 MB. After the
// first full list only increments are fetched (?since=cursor), as the API offers;
// past MAX_INCREMENTS of them the full list is fetched again.

import { OfflineVerifier, refuseOlder } from "./clinic-offline.js";

const DATABASE = "oms-clinic";
const STORE = "lists";
const RECORD = "current";
const MAX_INCREMENTS = 50;

function request(operation) {
  return new Promise((resolve, reject) => {
    operation.onsuccess = () => resolve(operation.result);
    operation.onerror = () => reject(operation.error);
  });
}

function open() {
  const opening = indexedDB.open(DATABASE, 1);
  opening.onupgradeneeded = () => opening.result.createObjectStore(STORE);
  return request(opening);
}

async function transact(mode, action) {
  const database = await open();
  try {
    return await request(action(database.transaction(STORE, mode).objectStore(STORE)));
  } finally {
    database.close();
  }
}

/** {trust, revocations, fetchedAt} as last stored, or undefined. */
export function readLists() {
  return transact("readonly", (store) => store.get(RECORD));
}

function writeLists(record) {
  return transact("readwrite", (store) => store.put(record, RECORD));
}

async function fetchJson(url) {
  const response = await fetch(url, { cache: "no-cache", credentials: "same-origin" });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

/**
 * Fetch the trust list and the revocations since what is stored (all of them the first time), check
 * them by the rule against the pinned key, refuse them if older than what is stored (refuseOlder), and
 * keep them. Resolves to {record, verifier}; rejects, keeping what was stored, if anything fails.
 */
export async function refreshLists(urls, registryJwks) {
  const stored = await storedVerifier(registryJwks);
  const extended = stored && stored.record.revocations.length <= MAX_INCREMENTS ? stored.record.revocations : null;
  const since = extended ? `${urls.revocations}?since=${stored.verifier.cursor}` : urls.revocations;
  const [trust, revocations] = await Promise.all([fetchJson(urls.trustList), fetchJson(since)]);
  const documents = extended ? [...extended, revocations] : [revocations];
  const verifier = await OfflineVerifier.create(trust, documents, registryJwks);
  refuseOlder(stored?.verifier, verifier);
  const record = { trust, revocations: documents, fetchedAt: Date.now() };
  await writeLists(record);
  remember(record, verifier);
  return { record, verifier };
}

let cached = null;

/** Which stored lists a verifier was built from: a list's signature names it. */
function identity(record) {
  return [record.trust.jws, ...record.revocations.map((document) => document.jws)].join(" ");
}

function remember(record, verifier) {
  cached = { identity: identity(record), verifier };
}

/**
 * The verifier for the stored lists, checked again by the rule (storage is not trusted, and a key that
 * signed them may have run out since), and the stored record; undefined when nothing usable is stored.
 */
export async function storedVerifier(registryJwks) {
  const record = await readLists();
  if (!record?.trust || !Array.isArray(record.revocations)) return undefined;
  if (cached?.identity === identity(record) && Date.now() <= cached.verifier.signersValidUntil) {
    return { record, verifier: cached.verifier };
  }
  try {
    const verifier = await OfflineVerifier.create(record.trust, record.revocations, registryJwks);
    remember(record, verifier);
    return { record, verifier };
  } catch {
    return undefined;
  }
}

/** How old the lists are: from the older of when the registry issued them and when they were fetched. */
export function listsAge(record, verifier, nowMs = Date.now()) {
  return nowMs - Math.min(record.fetchedAt, verifier.issuedAt);
}
