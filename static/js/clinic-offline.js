// Verify an OMS1 code in the browser with no network, from the registry's signed lists.
//
// The same checks in the same order as policy_codes/offline.py and codec.py
// (docs/code-format.md), so reception reads the same verdict the Python
// verifier gives. Pure: no DOM and no storage, so it loads and tests on its own.
// Everything cryptographic is WebCrypto: ES256 (raw r||s, as COSE and JWS
// carry it) and SHA-256. The format's constants come from Python, generated into
// format-constants.js (policy_codes/format_constants.py): none is written here.

import {
  ALG_ES256,
  BASE45_CHARSET,
  BASE64_PATTERN,
  BASE64URL_PATTERN,
  CLAIM,
  CLOCK_SKEW_MS,
  CODE_KIND,
  COORDINATE_LENGTH,
  CURVE_ORDER,
  CYRILLIC_BLOCK,
  DIGEST_BYTES,
  ENP_LENGTH,
  FIRST_INSTANT_MS,
  FORMAT_NAME,
  HEADER_ALG,
  HEADER_KID,
  INSTANT_PATTERN,
  INSURER_CODE_LENGTH,
  JWK_CRV,
  JWK_KTY,
  JWS_ALG,
  KEY_STATUS,
  KEYBOARD_LAYOUT,
  KID_LENGTH,
  LAST_INSTANT_MS,
  LEGACY_LENGTH,
  LEGACY_TYPES,
  LIST_REFUSAL,
  LIVE_CODE_LIFETIME_MS,
  MAX_CLOCK_SKEW_MS,
  MAX_CURSOR,
  MAX_DAY,
  MAX_MESSAGE_BYTES,
  MAX_NAME_LENGTH,
  MAX_NAME_PART_LENGTH,
  MAX_SECONDS,
  MAX_SERIAL,
  MAX_TEXT_LENGTH,
  MIN_DAY,
  MOSCOW_OFFSET_MS,
  NAME_CODE_LENGTHS,
  NAME_END,
  NAME_SEPARATOR,
  NAME_SYMBOLS,
  PREFIX,
  REGISTRY_OWNER,
  REQUIRED_CLAIMS,
  REVOCATION_CONTEXT,
  REVOCATION_HEADINGS,
  REVOCATIONS_FORMAT,
  SEX,
  SCANNER_WHITESPACE,
  SIGNATURE_LENGTH,
  TRUST_LIST_FORMAT,
  VERDICT,
} from "./format-constants.js";

/** Another version of the code format: its name, a number, then `:` (codec._ANY_VERSION; Python's \\d is any
 * Unicode decimal digit, so `OMS１:` with a full-width one is another version there too). */
const ANY_VERSION = new RegExp(`^${FORMAT_NAME}\\p{Nd}+:`, "u");
const DAY_MS = 86400 * 1000;
/** WebCrypto's name for ES256 on P-256. */
const ES256 = { name: "ECDSA", namedCurve: JWK_CRV, hash: "SHA-256" };
/** n/2, n the order of P-256: only the low-S form of a signature is valid (docs/code-format.md). */
const HALF_ORDER = CURVE_ORDER / 2n;
const encoder = new TextEncoder();

/** Lists refused by the rule of docs/code-format.md, "Published lists": `reason` says why. */
export class BadList extends Error {
  constructor(reason, detail = "") {
    super(detail ? `${reason}: ${detail}` : reason);
    this.reason = reason;
  }
}

class CodeError extends Error {
  /** `live`: the code is a live one (its claims were read), as errors.CodeExpired.live. */
  constructor(verdict, why, live = false) {
    super(why);
    this.verdict = verdict;
    this.live = live;
  }
}

// ---- scanner text (policy_codes/keyboard.py, codec.normalise_scanned) ----

const LAYOUT = new Map(Object.entries(KEYBOARD_LAYOUT));
const CYRILLIC = new RegExp(`[\\u{${CYRILLIC_BLOCK[0].toString(16)}}-\\u{${CYRILLIC_BLOCK[1].toString(16)}}]`, "u");

const STRIPPED = new Set(SCANNER_WHITESPACE);

/** Python's str.strip(): not trim(), which also takes U+FEFF and leaves U+001C–U+001F (a scanner's GS) and U+0085. */
function strip(text) {
  let start = 0;
  let end = text.length;
  while (start < end && STRIPPED.has(text[start])) start++;
  while (end > start && STRIPPED.has(text[end - 1])) end--;
  return text.slice(start, end);
}

/** Undo what scanners do to text: a Russian keyboard layout, Caps Lock, line endings. */
export function normaliseScanned(text) {
  let result = strip(text);
  if (CYRILLIC.test(result)) {
    result = [...result].map((char) => LAYOUT.get(char) ?? char).join("");
  }
  return result.toUpperCase();
}

function luhnValid(digits) {
  let total = 0;
  for (let index = 0; index < digits.length; index++) {
    let digit = digits.charCodeAt(digits.length - 1 - index) - 48;
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    total += digit;
  }
  return total % 10 === 0;
}

// ---- Base45 (RFC 9285) ----

export function b45decode(text) {
  const values = [];
  for (const char of text) {
    const value = BASE45_CHARSET.indexOf(char);
    if (value < 0) throw new Error("not Base45");
    values.push(value);
  }
  if (values.length % 3 === 1) throw new Error("not Base45");
  const out = [];
  for (let index = 0; index < values.length; index += 3) {
    if (index + 2 < values.length) {
      const value = values[index] + 45 * values[index + 1] + 2025 * values[index + 2];
      if (value > 0xffff) throw new Error("a Base45 triple is over 65535");
      out.push(value >> 8, value & 0xff);
    } else {
      const value = values[index] + 45 * values[index + 1];
      if (value > 0xff) throw new Error("the last Base45 pair is over 255");
      out.push(value);
    }
  }
  return new Uint8Array(out);
}

// ---- CBOR (RFC 8949), as much as cbor2.loads reads of a code ----

/** A CBOR float: kept apart from integers, which the claims require. */
class CborFloat {
  constructor(value) {
    this.value = value;
  }
}

/** Another tag than a bignum: never an integer or a byte string. */
class CborTag {
  constructor(tag, value) {
    this.tag = tag;
    this.value = value;
  }
}

const BREAK = Symbol("break");
const MAX_DEPTH = 32;

function integer(value) {
  return typeof value === "bigint" && value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value;
}

function bytesToBigInt(bytes) {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

/** The first CBOR item in `bytes` (trailing bytes are ignored, as cbor2.loads does). Throws on anything else. */
export function decodeCbor(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let position = 0;

  function need(count) {
    if (position + count > bytes.length) throw new Error("CBOR ends early");
  }

  function argument(info) {
    if (info < 24) return info;
    const sizes = { 24: 1, 25: 2, 26: 4, 27: 8 };
    const size = sizes[info];
    if (!size) throw new Error("unsupported CBOR length");
    need(size);
    let value;
    if (size === 1) value = view.getUint8(position);
    else if (size === 2) value = view.getUint16(position);
    else if (size === 4) value = view.getUint32(position);
    else value = integer(view.getBigUint64(position));
    position += size;
    return value;
  }

  function length(info) {
    const value = argument(info);
    if (typeof value !== "number" || value > bytes.length) throw new Error("CBOR length out of range");
    return value;
  }

  function chunks(major) {
    const parts = [];
    for (;;) {
      const part = item(1, true);
      if (part === BREAK) break;
      const expected = major === 2 ? part instanceof Uint8Array : typeof part === "string";
      if (!expected) throw new Error("a bad chunk in an indefinite string");
      parts.push(part);
    }
    if (major === 3) return parts.join("");
    const whole = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
    let offset = 0;
    for (const part of parts) {
      whole.set(part, offset);
      offset += part.length;
    }
    return whole;
  }

  function item(depth, breakAllowed = false) {
    if (depth > MAX_DEPTH) throw new Error("CBOR nested too deep");
    need(1);
    const initial = bytes[position++];
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (info === 31) {
      if (major === 7) {
        if (!breakAllowed) throw new Error("a stray CBOR break");
        return BREAK;
      }
      if (major === 2 || major === 3) return chunks(major);
      if (major === 4) {
        const array = [];
        for (let next = item(depth + 1, true); next !== BREAK; next = item(depth + 1, true)) array.push(next);
        return array;
      }
      if (major === 5) {
        const map = new Map();
        for (let key = item(depth + 1, true); key !== BREAK; key = item(depth + 1, true)) map.set(key, item(depth + 1));
        return map;
      }
      throw new Error("unsupported indefinite CBOR item");
    }
    switch (major) {
      case 0:
        return argument(info);
      case 1: {
        const value = argument(info);
        return integer(-1n - BigInt(value));
      }
      case 2: {
        const size = length(info);
        need(size);
        position += size;
        return bytes.slice(position - size, position);
      }
      case 3: {
        const size = length(info);
        need(size);
        position += size;
        return new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(position - size, position));
      }
      case 4: {
        const size = length(info);
        const array = [];
        for (let index = 0; index < size; index++) array.push(item(depth + 1));
        return array;
      }
      case 5: {
        const size = length(info);
        const map = new Map();
        for (let index = 0; index < size; index++) {
          const key = item(depth + 1);
          map.set(key, item(depth + 1));
        }
        return map;
      }
      case 6: {
        const tag = argument(info);
        const value = item(depth + 1);
        if ((tag === 2 || tag === 3) && value instanceof Uint8Array) {
          const magnitude = bytesToBigInt(value);
          return integer(tag === 2 ? magnitude : -1n - magnitude);
        }
        return new CborTag(tag, value);
      }
      default:
        return simple(info);
    }
  }

  function simple(info) {
    if (info === 20) return false;
    if (info === 21) return true;
    if (info === 22) return null;
    if (info === 23) return undefined;
    if (info === 24) {
      need(1);
      return new CborTag("simple", bytes[position++]);
    }
    if (info < 24) return new CborTag("simple", info);
    need(info === 25 ? 2 : info === 26 ? 4 : 8);
    let value;
    if (info === 25) value = halfFloat(view.getUint16(position));
    else if (info === 26) value = view.getFloat32(position);
    else if (info === 27) value = view.getFloat64(position);
    else throw new Error("reserved CBOR simple value");
    position += info === 25 ? 2 : info === 26 ? 4 : 8;
    return new CborFloat(value);
  }

  return item(0);
}

function halfFloat(bits) {
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  const sign = bits & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function isInteger(value) {
  return Number.isInteger(value) || typeof value === "bigint";
}

// ---- names (policy_codes/names.py): canonical Huffman from fixed code lengths ----

/** "length:code" → symbol, code words assigned shorter first, then in NAME_SYMBOLS order. */
const CODE_WORDS = (() => {
  const order = NAME_SYMBOLS.map((symbol, index) => ({ symbol, index, length: NAME_CODE_LENGTHS[index] }));
  order.sort((a, b) => a.length - b.length || a.index - b.index);
  const table = new Map();
  let code = 0;
  let previous = 0;
  for (const { symbol, length } of order) {
    code <<= length - previous;
    table.set(`${length}:${code}`, symbol);
    code += 1;
    previous = length;
  }
  return table;
})();
const LONGEST = Math.max(...NAME_CODE_LENGTHS);

function nameSymbols(packed) {
  const total = packed.length * 8;
  const bit = (position) => (position < total ? (packed[position >> 3] >> (7 - (position & 7))) & 1 : 0);
  let position = 0;
  const symbols = [];
  for (;;) {
    let code = 0;
    let length = 0;
    let symbol;
    while (symbol === undefined && length < LONGEST) {
      code = (code << 1) | bit(position + length);
      length += 1;
      symbol = CODE_WORDS.get(`${length}:${code}`);
    }
    position += length;
    if (symbol === undefined || symbol === NAME_END || position > total) return symbols.join("");
    symbols.push(symbol);
  }
}

function normalisePart(part) {
  return part.split(/\s+/).filter(Boolean).join(" ").toUpperCase();
}

/** As Python's str.title(): a capital after anything that is not a letter. */
function title(part) {
  return part.toLowerCase().replace(/(^|[^\p{L}])(\p{L})/gu, (_, before, letter) => before + letter.toUpperCase());
}

/** The display name (`Иванова Мария Петровна`) of a packed name; throws if it is not three valid parts. */
export function unpackName(packed) {
  const parts = nameSymbols(packed).split(NAME_SEPARATOR).map(normalisePart);
  if (parts.length !== 3) throw new Error("the name field does not hold three parts");
  const [surname, given] = parts;
  if (!surname || !given) throw new Error("surname and given name are required");
  if (parts.some((part) => part.length > MAX_NAME_PART_LENGTH)) throw new Error("a name part is too long");
  if (parts.reduce((sum, part) => sum + part.length, 0) > MAX_NAME_LENGTH) throw new Error("the name is too long");
  return parts.filter(Boolean).map(title).join(" ");
}

// ---- claims (policy_codes/claims.py) ----

const KNOWN_CLAIMS = new Set(Object.values(CLAIM));
const KINDS = Object.values(CODE_KIND);
const SEXES = Object.values(SEX);

function day(value) {
  if (typeof value !== "number" || value < MIN_DAY || value > MAX_DAY) throw new Error("a date is out of range");
  return value;
}

function seconds(value) {
  if (typeof value !== "number" || value < 0 || value > MAX_SECONDS) throw new Error("an instant is out of range");
  return value;
}

function claimsFrom(payload) {
  let wire;
  try {
    wire = decodeCbor(payload);
  } catch (error) {
    throw new CodeError(VERDICT.MALFORMED, `the claims are not CBOR: ${error.message}`);
  }
  try {
    return parseClaims(wire);
  } catch (error) {
    throw new CodeError(VERDICT.MALFORMED, error.message);
  }
}

function parseClaims(wire) {
  if (!(wire instanceof Map)) throw new Error("the claims are not a map");
  if (!REQUIRED_CLAIMS.every((key) => wire.has(key)) || ![...wire.keys()].every((key) => KNOWN_CLAIMS.has(key))) {
    throw new Error("the claims are not the documented map");
  }
  for (const [key, value] of wire) {
    const right = key === CLAIM.NAME ? value instanceof Uint8Array : isInteger(value);
    if (!right) throw new Error(`claim ${key} has the wrong type`);
  }
  const enpValue = BigInt(wire.get(CLAIM.ENP));
  if (enpValue < 0n || enpValue >= 10n ** BigInt(ENP_LENGTH)) {
    throw new Error(`the policy number is not ${ENP_LENGTH} digits`);
  }
  const enp = enpValue.toString().padStart(ENP_LENGTH, "0");
  if (!luhnValid(enp)) throw new Error("the policy number's check digit is wrong");
  const serial = wire.get(CLAIM.SERIAL);
  if (typeof serial !== "number" || serial < 1 || serial > MAX_SERIAL) throw new Error("serial out of range");
  const kind = wire.get(CLAIM.KIND);
  if (!KINDS.includes(kind)) throw new Error("unknown kind");
  const insurer = wire.get(CLAIM.INSURER);
  if (typeof insurer !== "number" || insurer < 0 || insurer >= 10 ** INSURER_CODE_LENGTH) {
    throw new Error("insurer code out of range");
  }
  const name = unpackName(wire.get(CLAIM.NAME));
  const birthDay = day(wire.get(CLAIM.BIRTH_DATE));
  if (!SEXES.includes(wire.get(CLAIM.SEX))) throw new Error("unknown sex");
  const validFrom = day(wire.get(CLAIM.VALID_FROM));
  const validTo = wire.has(CLAIM.VALID_TO) ? day(wire.get(CLAIM.VALID_TO)) : null;
  const issuedAt = seconds(wire.get(CLAIM.ISSUED_AT));
  const expiresAt = wire.has(CLAIM.EXPIRES_AT) ? seconds(wire.get(CLAIM.EXPIRES_AT)) : null;
  if (validTo !== null && validTo < validFrom) throw new Error("the validity ends before it starts");
  if ((kind === CODE_KIND.LIVE) !== (expiresAt !== null)) throw new Error("only a live code expires, and it must");
  return {
    enp,
    serial,
    kind,
    insurerCode: String(insurer).padStart(INSURER_CODE_LENGTH, "0"),
    name,
    birthDate: new Date(birthDay * DAY_MS).toISOString().slice(0, 10),
    validFrom,
    validTo,
    issuedAtMs: issuedAt * 1000,
    expiresAtMs: expiresAt === null ? null : expiresAt * 1000,
  };
}

// ---- COSE_Sign1 (signing/cose.py) ----

function byteString(data) {
  const length = data.length;
  const head = length < 24 ? [0x40 | length] : length < 0x100 ? [0x58, length] : [0x59, length >> 8, length & 0xff];
  return [...head, ...data];
}

/** A CBOR integer from -24 to 23: one byte. */
function smallInteger(value) {
  return value >= 0 ? value : 0x20 | (-1 - value);
}

/** The protected header as sign1 writes it: {alg: ES256, kid}, in that order, each in its shortest form. */
function protectedHeaderOf(kid) {
  return [0xa2, smallInteger(HEADER_ALG), smallInteger(ALG_ES256), smallInteger(HEADER_KID), ...byteString(kid)];
}

function sameBytes(bytes, expected) {
  return bytes.length === expected.length && expected.every((byte, index) => byte === bytes[index]);
}

/** ["Signature1", protected, h'', payload] as CBOR: what the insurer signed. */
function toBeSigned(protectedHeader, payload) {
  return new Uint8Array([0x84, 0x6a, ...encoder.encode("Signature1"), ...byteString(protectedHeader), 0x40, ...byteString(payload)]);
}

function readEnvelope(message) {
  if (message.length > MAX_MESSAGE_BYTES) throw new Error("the message is too long");
  const parts = decodeCbor(message);
  if (!Array.isArray(parts) || parts.length !== 4) throw new Error("a COSE_Sign1 is an array of four");
  const [protectedHeader, unprotected, payload, signature] = parts;
  if (![protectedHeader, payload, signature].every((part) => part instanceof Uint8Array)) {
    throw new Error("protected header, payload and signature are byte strings");
  }
  if (!(unprotected instanceof Map) || unprotected.size !== 0) throw new Error("the unprotected header must be empty");
  const written = [0x84, ...byteString(protectedHeader), 0xa0, ...byteString(payload), ...byteString(signature)];
  if (!sameBytes(message, written)) {
    throw new Error("not written as sign1 writes it: trailing bytes, chunks or long length fields");
  }
  const header = decodeCbor(protectedHeader);
  if (!(header instanceof Map) || header.size !== 2 || !header.has(HEADER_ALG) || !header.has(HEADER_KID)) {
    throw new Error("the protected header holds exactly alg and kid");
  }
  const kid = header.get(HEADER_KID);
  if (!(kid instanceof Uint8Array) || kid.length === 0) throw new Error("kid is a byte string");
  if (header.get(HEADER_ALG) !== ALG_ES256) throw new Error("only ES256 is accepted");
  // As signing/cose.py read_kid: the same map written otherwise (a key 1.0, a tag, another order) is not what was signed.
  if (!sameBytes(protectedHeader, protectedHeaderOf(kid))) {
    throw new Error("the protected header is not written as sign1 writes it");
  }
  return { kid, protectedHeader, payload, signature };
}

// ---- encodings and keys ----

export function hex(bytes) {
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A pattern of Python's, matched whole as its fullmatch does. */
function whole(pattern) {
  return new RegExp(`^(?:${pattern})$`);
}

const BASE64URL = whole(BASE64URL_PATTERN);
const BASE64 = whole(BASE64_PATTERN);

function binary(text) {
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}

/** Unpadded base64url (RFC 7515) and nothing else, as signing/trust_list.py reads it. */
function base64UrlDecode(text) {
  if (typeof text !== "string" || !BASE64URL.test(text) || text.length % 4 === 1) throw new Error("bad base64url");
  const standard = text.replace(/-/g, "+").replace(/_/g, "/");
  return binary(standard + "=".repeat((4 - (standard.length % 4)) % 4));
}

/** Padded standard base64, as the revocation list carries its digests. */
function base64Decode(text) {
  if (typeof text !== "string" || !BASE64.test(text)) throw new Error("bad base64");
  return binary(text);
}

/** JSON as Python's json reads it in published_lists.py: UTF-8 with no byte order mark. */
function parseJson(bytes) {
  return JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes));
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

const INSTANT = whole(INSTANT_PATTERN);

function daysInMonth(year, month) {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year, month, day) {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  return era * 146097 + yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear - 719468;
}

/** A time as the registry writes it (signing/trust_list.parse_instant), in ms since 1970 UTC; throws otherwise. */
function instant(text) {
  const match = typeof text === "string" ? INSTANT.exec(text) : null;
  if (!match) throw new Error("a time is not of the documented form");
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const [fraction, sign, zoneHours, zoneMinutes] = match.slice(7);
  if (sign && (Number(zoneHours) > 23 || Number(zoneMinutes) > 59)) throw new Error("a time's offset is out of range");
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new Error("a time is out of range");
  }
  if (hour > 23 || minute > 59 || second > 59) throw new Error("a time is out of range");
  const offsetMs = sign ? (sign === "-" ? -1 : 1) * (Number(zoneHours) * 60 + Number(zoneMinutes)) * 60000 : 0;
  const milliseconds = Number((fraction ?? "").padEnd(3, "0").slice(0, 3));
  const local = ((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute) * 60000 + second * 1000 + milliseconds;
  const utc = local - offsetMs;
  if (utc < FIRST_INSTANT_MS || utc > LAST_INSTANT_MS) throw new Error("a time is out of range");
  return utc;
}

/** One JWK of a trust list, checked as signing/trust_list.py does (the kid must be its key's); throws otherwise. */
async function importJwk(entry) {
  if (!isObject(entry)) throw new Error("each key is an object");
  if (entry.kty !== JWK_KTY || entry.crv !== JWK_CRV || entry.alg !== JWS_ALG) {
    throw new Error("only EC P-256 ES256 keys are accepted");
  }
  if (typeof entry.insurer !== "string") throw new Error("insurer is text");
  if (!Object.values(KEY_STATUS).includes(entry.status)) throw new Error("unknown key status");
  const retired = entry.status === KEY_STATUS.RETIRED;
  if (retired !== Object.hasOwn(entry, "retired_at")) {
    throw new Error("a retired key, and only a retired key, says when it retired");
  }
  const coordinates = [base64UrlDecode(entry.x), base64UrlDecode(entry.y)];
  if (coordinates.some((bytes) => bytes.length !== COORDINATE_LENGTH)) throw new Error("a coordinate is 32 bytes");
  let key;
  try {
    key = await crypto.subtle.importKey("jwk", { kty: JWK_KTY, crv: JWK_CRV, x: entry.x, y: entry.y }, ES256, true, [
      "verify",
    ]);
  } catch {
    throw new Error("a key does not import");
  }
  const kid = base64UrlDecode(entry.kid);
  const expected = (await sha256(new Uint8Array(await crypto.subtle.exportKey("spki", key)))).slice(0, KID_LENGTH);
  if (hex(kid) !== hex(expected)) throw new Error("a key id does not match its key");
  return {
    kid: hex(kid),
    key,
    owner: entry.insurer,
    notBefore: instant(entry.not_before),
    notAfter: instant(entry.not_after),
    status: entry.status,
    retiredAt: retired ? instant(entry.retired_at) : null,
  };
}

/** Whether `key` may have signed at `ms`: within its window, and not after it retired (PublicKey.signed_in_window). */
function signedInWindow(key, ms) {
  return key.notBefore <= ms && ms <= key.notAfter && (key.retiredAt === null || ms <= key.retiredAt);
}

/** The keys of a JWKS by hex kid, or `reason`. */
async function importJwks(jwks, reason) {
  if (!isObject(jwks) || !Array.isArray(jwks.keys)) throw new BadList(reason, "not a list of keys");
  const keys = new Map();
  for (const entry of jwks.keys) {
    try {
      const key = await importJwk(entry);
      keys.set(key.kid, key);
    } catch (error) {
      throw new BadList(reason, error.message);
    }
  }
  return keys;
}

async function verifyEs256(key, signature, data) {
  if (signature.length !== SIGNATURE_LENGTH) return false;
  if (bytesToBigInt(signature.subarray(COORDINATE_LENGTH)) > HALF_ORDER) return false;
  try {
    return await crypto.subtle.verify(ES256, key, signature, data);
  } catch {
    return false;
  }
}

// ---- the published lists (policy_codes/published_lists.py; docs/code-format.md, "Published lists") ----

/** The pinned registry keys (a JWKS, as `flask keys registry-jwks` prints it), by hex kid. */
export async function importRegistryKeys(jwks) {
  const keys = await importJwks(jwks, LIST_REFUSAL.BAD_PIN);
  if (!keys.size) throw new BadList(LIST_REFUSAL.BAD_PIN, "no key is pinned");
  return keys;
}

/** Steps 1 to 4: the JWS, its key, its signature, and the signed part's format and date. */
async function signedDocument(document, pins, format) {
  if (!isObject(document) || typeof document.jws !== "string") {
    throw new BadList(LIST_REFUSAL.MALFORMED, "the document carries no signature");
  }
  const parts = document.jws.split(".");
  if (parts.length !== 3) throw new BadList(LIST_REFUSAL.MALFORMED, "a compact JWS has three parts");
  let header;
  let payloadBytes;
  let signature;
  try {
    header = parseJson(base64UrlDecode(parts[0]));
    payloadBytes = base64UrlDecode(parts[1]);
    signature = base64UrlDecode(parts[2]);
  } catch {
    throw new BadList(LIST_REFUSAL.MALFORMED, "the JWS does not parse");
  }
  if (!isObject(header) || header.alg !== JWS_ALG || typeof header.kid !== "string") {
    throw new BadList(LIST_REFUSAL.MALFORMED, "only ES256 with a kid is accepted");
  }
  let kid;
  try {
    kid = hex(base64UrlDecode(header.kid));
  } catch {
    throw new BadList(LIST_REFUSAL.MALFORMED, "the kid is not base64url");
  }
  const signer = pins.get(kid);
  if (!signer) throw new BadList(LIST_REFUSAL.UNKNOWN_KEY, kid);
  if (!(await verifyEs256(signer.key, signature, encoder.encode(`${parts[0]}.${parts[1]}`)))) {
    throw new BadList(LIST_REFUSAL.BAD_SIGNATURE, kid);
  }
  let payload;
  try {
    payload = parseJson(payloadBytes);
  } catch {
    throw new BadList(LIST_REFUSAL.MALFORMED, "the signed part is not JSON");
  }
  if (!isObject(payload)) throw new BadList(LIST_REFUSAL.MALFORMED, "the signed part is not an object");
  if (payload.format !== format) throw new BadList(LIST_REFUSAL.WRONG_FORMAT, `not ${format}`);
  let issuedAt;
  try {
    issuedAt = instant(payload.issued_at);
  } catch {
    throw new BadList(LIST_REFUSAL.MALFORMED, "issued_at is not a time of the documented form");
  }
  return { kid, payload, issuedAt };
}

/**
 * Steps 6 and 7: the signing key as the pin describes it and as the trust list does, then the date.
 * Returns when the first of those descriptions ends.
 */
function judgeSigner(signed, descriptions, nowMs) {
  let until = Infinity;
  for (const key of descriptions) {
    if (!key) continue; // the trust list need not list the registry's keys
    if (key.owner !== REGISTRY_OWNER) throw new BadList(LIST_REFUSAL.NOT_REGISTRY_KEY, `${key.kid} is ${key.owner}'s`);
    if (!signedInWindow(key, signed.issuedAt)) throw new BadList(LIST_REFUSAL.OUTSIDE_KEY_WINDOW, key.kid);
    if (key.status === KEY_STATUS.COMPROMISED) throw new BadList(LIST_REFUSAL.KEY_COMPROMISED, key.kid);
    if (nowMs > key.notAfter) throw new BadList(LIST_REFUSAL.KEY_EXPIRED, key.kid);
    until = Math.min(until, key.notAfter);
  }
  if (signed.issuedAt > nowMs + MAX_CLOCK_SKEW_MS) throw new BadList(LIST_REFUSAL.ISSUED_IN_FUTURE, String(signed.issuedAt));
  return until;
}

function wholeNumber(value) {
  return Number.isInteger(value) && value >= 0 && value <= MAX_CURSOR ? value : null;
}

function nextCursor(payload, cursor) {
  const since = wholeNumber(payload.since);
  const reached = wholeNumber(payload.cursor);
  if (since !== cursor || reached === null || reached < since) {
    throw new BadList(LIST_REFUSAL.BAD_CURSOR, `an increment must start at cursor ${cursor}`);
  }
  return reached;
}

async function digests(document, payload, field) {
  let raw;
  try {
    raw = base64Decode(document[field]);
  } catch {
    throw new BadList(LIST_REFUSAL.BAD_DIGESTS, `${field} is not base64`);
  }
  if (raw.length % DIGEST_BYTES || hex(await sha256(raw)) !== payload[`${field}_sha256`]) {
    throw new BadList(LIST_REFUSAL.BAD_DIGESTS, `${field} does not match its signed hash`);
  }
  const found = new Set();
  for (let index = 0; index < raw.length; index += DIGEST_BYTES) found.add(hex(raw.subarray(index, index + DIGEST_BYTES)));
  return found;
}

/** Refuse lists older than those held (a replay), as published_lists.refuse_older; the same lists again are fine. */
export function refuseOlder(held, lists) {
  if (!held) return;
  if (lists.trustListIssuedAt < held.trustListIssuedAt) throw new BadList(LIST_REFUSAL.OLDER_TRUST_LIST);
  if (lists.cursor < held.cursor || lists.revocationsIssuedAt < held.revocationsIssuedAt) {
    throw new BadList(LIST_REFUSAL.OLDER_REVOCATIONS);
  }
}

/** How revocation lists name a static code: by its signature (policy_codes/revocation.py). */
export async function revocationDigest(signature) {
  const data = new Uint8Array(REVOCATION_CONTEXT.length + signature.length);
  data.set(REVOCATION_CONTEXT);
  data.set(signature, REVOCATION_CONTEXT.length);
  return hex((await sha256(data)).slice(0, DIGEST_BYTES));
}

// ---- the verifier (policy_codes/offline.py) ----

export class OfflineVerifier {
  /**
   * From the trust list document, the revocation documents (a full one, then any increments in
   * order) and the pinned registry JWKS, by the rule of the published lists at `nowMs`. Rejects with
   * BadList (its `reason` as published_lists.ListRefusal's) if the lists are refused.
   */
  static async create(trustDocument, revocationDocuments, registryJwks, nowMs = Date.now()) {
    const pins = await importRegistryKeys(registryJwks);
    const verifier = new OfflineVerifier();
    const trust = await signedDocument(trustDocument, pins, TRUST_LIST_FORMAT);
    verifier.keys = await importJwks(trust.payload, LIST_REFUSAL.BAD_KEY_ENTRY);
    verifier.signersValidUntil = judgeSigner(trust, [pins.get(trust.kid), verifier.keys.get(trust.kid)], nowMs);
    verifier.trustListIssuedAt = trust.issuedAt;
    /** The digests under each of the revocation list's headings. */
    verifier.listed = new Map(REVOCATION_HEADINGS.map((heading) => [heading, new Set()]));
    verifier.cursor = 0;
    if (!revocationDocuments?.length) throw new BadList(LIST_REFUSAL.MALFORMED, "a revocation list is needed");
    for (const document of revocationDocuments) {
      const revocations = await signedDocument(document, pins, REVOCATIONS_FORMAT);
      verifier.cursor = nextCursor(revocations.payload, verifier.cursor);
      for (const [heading, listed] of verifier.listed) {
        for (const digest of await digests(document, revocations.payload, heading)) listed.add(digest);
      }
      const until = judgeSigner(revocations, [pins.get(revocations.kid), verifier.keys.get(revocations.kid)], nowMs);
      verifier.signersValidUntil = Math.min(verifier.signersValidUntil, until);
      verifier.revocationsIssuedAt = revocations.issuedAt;
    }
    return verifier;
  }

  /**
   * What the code says, checked: {verdict, shown, holder, terms}. A number or a legacy paper policy
   * needs the registry: its verdict is null (never "valid"), unless the number itself is bad.
   */
  async verify(scanned, nowMs = Date.now()) {
    if (
      scanned.length === LEGACY_LENGTH &&
      [...scanned].every((char) => char.charCodeAt(0) < 256) &&
      LEGACY_TYPES.includes(scanned.charCodeAt(0))
    ) {
      return { verdict: null, shown: VERDICT.LEGACY_PAPER, holder: null };
    }
    const text = normaliseScanned(scanned);
    const digits = text.replace(/[ -]/g, ""); // spaced or dashed, as verification._number
    if (digits.length === ENP_LENGTH && /^[0-9]+$/.test(digits)) {
      return { verdict: luhnValid(digits) ? null : VERDICT.MALFORMED, shown: "number", holder: null };
    }
    try {
      const { claims, signature } = await this.decode(text, nowMs);
      const digest = await revocationDigest(signature); // a live code's is on no list
      // The first heading that lists it, as published_lists.heading_of; headings are verdicts' names.
      const verdict = REVOCATION_HEADINGS.find((heading) => this.listed.get(heading).has(digest)) ?? VERDICT.VALID;
      const shown = claims.kind === CODE_KIND.LIVE ? "live_code" : "static_code";
      // What the code is (a temporary certificate says so at the desk) and its last day, as an ISO date or null.
      const validTo = claims.validTo === null ? null : new Date(claims.validTo * DAY_MS).toISOString().slice(0, 10);
      const terms = { kind: claims.kind, validTo };
      return { verdict, shown, holder: { name: claims.name, birthDate: claims.birthDate }, terms };
    } catch (error) {
      if (!(error instanceof CodeError)) throw error;
      // errors.shown_by: other text, a live code that ran out, or a code.
      const shown = error.verdict === VERDICT.NOT_A_POLICY_CODE ? "other" : error.live ? "live_code" : "static_code";
      return { verdict: error.verdict, shown, holder: null };
    }
  }

  /** codec.decode: the checks of docs/code-format.md, in its order. */
  async decode(text, nowMs) {
    if (!text.startsWith(PREFIX)) {
      if (ANY_VERSION.test(text)) throw new CodeError(VERDICT.MALFORMED, "a version this verifier does not know");
      throw new CodeError(VERDICT.NOT_A_POLICY_CODE, "no OMS1: prefix");
    }
    if (text.length > MAX_TEXT_LENGTH) throw new CodeError(VERDICT.MALFORMED, "far too long for a policy code");
    let envelope;
    try {
      envelope = readEnvelope(b45decode(text.slice(PREFIX.length)));
    } catch (error) {
      throw new CodeError(VERDICT.MALFORMED, error.message);
    }
    const key = this.keys.get(hex(envelope.kid));
    if (!key) throw new CodeError(VERDICT.UNKNOWN_KEY, "no such key in the trust list");
    if (!(await verifyEs256(key.key, envelope.signature, toBeSigned(envelope.protectedHeader, envelope.payload)))) {
      throw new CodeError(VERDICT.FORGED, "the signature does not match");
    }
    const claims = claimsFrom(envelope.payload);
    if (key.owner !== claims.insurerCode) throw new CodeError(VERDICT.FORGED, "signed by a key of another insurer");
    if (key.status === KEY_STATUS.COMPROMISED) throw new CodeError(VERDICT.KEY_COMPROMISED, "the key is compromised");
    if (!signedInWindow(key, claims.issuedAtMs)) {
      throw new CodeError(VERDICT.FORGED, "signed outside the key's validity window, or after the key retired");
    }
    if (
      claims.expiresAtMs !== null &&
      (claims.expiresAtMs - claims.issuedAtMs > LIVE_CODE_LIFETIME_MS || claims.issuedAtMs > nowMs + CLOCK_SKEW_MS)
    ) {
      throw new CodeError(VERDICT.FORGED, "a live code runs for 90 seconds from its signing, which is not in the future");
    }
    const today = Math.floor((nowMs + MOSCOW_OFFSET_MS) / DAY_MS);
    const live = claims.expiresAtMs !== null;
    if (nowMs > key.notAfter) throw new CodeError(VERDICT.EXPIRED, "key", live);
    if (live && nowMs > claims.expiresAtMs) throw new CodeError(VERDICT.EXPIRED, "live_code", live);
    if (claims.validTo !== null && today > claims.validTo) throw new CodeError(VERDICT.EXPIRED, "policy", live);
    if (today < claims.validFrom) throw new CodeError(VERDICT.EXPIRED, "not_yet_valid", live);
    return { claims, signature: envelope.signature };
  }

  /** When the older of the two lists was issued. */
  get issuedAt() {
    return Math.min(this.trustListIssuedAt, this.revocationsIssuedAt);
  }
}
