// Generated from Python by `make js-constants` (python -m policy_codes.format_constants): do not edit.
// Each value is the Python named beside it; change it there and regenerate. tests/test_format_constants.py
// fails while this file and Python disagree.

/** policy_codes/codec.py PREFIX: what every code of this format starts with */
export const PREFIX = "OMS1:";

/** policy_codes/codec.py: `OMS`, a version's number and `:` start a code */
export const FORMAT_NAME = "OMS";

/** policy_codes/codec.py: longer text is malformed */
export const MAX_TEXT_LENGTH = 1000;

/** policy_codes/codec.py normalise_scanned: what str.strip() takes off both ends */
export const SCANNER_WHITESPACE = "\u0009\u000a\u000b\u000c\u000d\u001c\u001d\u001e\u001f \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";

/** policy_codes/keyboard.py LAYOUT: Russian layout → US keys */
export const KEYBOARD_LAYOUT = Object.freeze({
  "Й": "Q",
  "Ц": "W",
  "У": "E",
  "К": "R",
  "Е": "T",
  "Н": "Y",
  "Г": "U",
  "Ш": "I",
  "Щ": "O",
  "З": "P",
  "Ф": "A",
  "Ы": "S",
  "В": "D",
  "А": "F",
  "П": "G",
  "Р": "H",
  "О": "J",
  "Л": "K",
  "Д": "L",
  "Я": "Z",
  "Ч": "X",
  "С": "C",
  "М": "V",
  "И": "B",
  "Т": "N",
  "Ь": "M",
  "й": "Q",
  "ц": "W",
  "у": "E",
  "к": "R",
  "е": "T",
  "н": "Y",
  "г": "U",
  "ш": "I",
  "щ": "O",
  "з": "P",
  "ф": "A",
  "ы": "S",
  "в": "D",
  "а": "F",
  "п": "G",
  "р": "H",
  "о": "J",
  "л": "K",
  "д": "L",
  "я": "Z",
  "ч": "X",
  "с": "C",
  "м": "V",
  "и": "B",
  "т": "N",
  "ь": "M",
  "Ж": ":",
  "Ю": ".",
  ".": "/",
  ";": "$",
  "ж": ":",
  "ю": ".",
});

/** policy_codes/keyboard.py: first and last code point */
export const CYRILLIC_BLOCK = Object.freeze([1024, 1279]);

/** policy_codes/base45.py CHARSET: RFC 9285's alphabet */
export const BASE45_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/** policy_codes/enp.py: digits in a ЕНП */
export const ENP_LENGTH = 16;

/** signing/cose.py: a longer COSE message is refused */
export const MAX_MESSAGE_BYTES = 2048;

/** signing/cose.py: the protected header's alg label */
export const HEADER_ALG = 1;

/** signing/cose.py: the protected header's kid label */
export const HEADER_KID = 4;

/** signing/cose.py: COSE's id of ES256 */
export const ALG_ES256 = -7;

/** signing/keys.py: bytes of SHA-256(SPKI) in a key id */
export const KID_LENGTH = 4;

/** signing/keys.py: an ES256 signature, r ‖ s */
export const SIGNATURE_LENGTH = 64;

/** signing/keys.py: bytes of r, s, x or y */
export const COORDINATE_LENGTH = 32;

/** signing/keys.py: n of P-256; only s ≤ n/2 is valid */
export const CURVE_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** policy_codes/claims.py ClaimKey: the claims map's keys */
export const CLAIM = Object.freeze({
  ENP: 1,
  SERIAL: 2,
  KIND: 3,
  INSURER: 4,
  NAME: 5,
  BIRTH_DATE: 6,
  SEX: 7,
  VALID_FROM: 8,
  VALID_TO: 9,
  ISSUED_AT: 10,
  EXPIRES_AT: 11,
});

/** policy_codes/claims.py REQUIRED_KEYS: never absent */
export const REQUIRED_CLAIMS = Object.freeze([1, 2, 3, 4, 5, 6, 7, 8, 10]);

/** policy_codes/claims.py CodeKind: claim 3 */
export const CODE_KIND = Object.freeze({
  POLICY: 1,
  TEMPORARY_CERTIFICATE: 2,
  LIVE: 3,
});

/** policy_codes/claims.py Sex: claim 7 */
export const SEX = Object.freeze({
  MALE: 1,
  FEMALE: 2,
});

/** policy_codes/claims.py: claim 2 runs from 1 to this */
export const MAX_SERIAL = 4294967295;

/** policy_codes/claims.py: digits of claim 4 */
export const INSURER_CODE_LENGTH = 5;

/** policy_codes/claims.py: the first day a date claim holds */
export const MIN_DAY = -719162;

/** policy_codes/claims.py: the last day a date claim holds */
export const MAX_DAY = 2932896;

/** policy_codes/claims.py: the last second an instant claim holds (9999-12-31T23:59:59Z) */
export const MAX_SECONDS = 253402300799;

/** policy_codes/names.py SYMBOLS: in canonical order */
export const NAME_SYMBOLS = Object.freeze(["|", "А", "Б", "В", "Г", "Д", "Е", "Ё", "Ж", "З", "И", "Й", "К", "Л", "М", "Н", "О", "П", "Р", "С", "Т", "У", "Ф", "Х", "Ц", "Ч", "Ш", "Щ", "Ъ", "Ы", "Ь", "Э", "Ю", "Я", " ", "-", "'", ".", "END"]);

/** policy_codes/names.py: between name parts */
export const NAME_SEPARATOR = "|";

/** policy_codes/names.py: the symbol that ends a packed name */
export const NAME_END = "END";

/** policy_codes/names.py: bits of each symbol's code */
export const NAME_CODE_LENGTHS = Object.freeze([4, 3, 7, 4, 6, 5, 4, 7, 7, 7, 4, 7, 5, 5, 5, 4, 4, 7, 4, 5, 5, 7, 7, 7, 7, 6, 7, 7, 7, 7, 6, 7, 7, 6, 7, 7, 7, 7, 5]);

/** policy_codes/names.py MAX_PART_LENGTH: letters in a name part */
export const MAX_NAME_PART_LENGTH = 40;

/** policy_codes/names.py MAX_TOTAL_LENGTH: letters in a whole name */
export const MAX_NAME_LENGTH = 100;

/** policy_codes/codec.py MOSCOW: policy dates are Moscow dates */
export const MOSCOW_OFFSET_MS = 10800000;

/** policy_codes/codec.py: a live code's longest run */
export const LIVE_CODE_LIFETIME_MS = 90000;

/** policy_codes/codec.py: how far ahead a live code may be signed */
export const CLOCK_SKEW_MS = 300000;

/** policy_codes/legacy.py: bytes in the 2011 barcode */
export const LEGACY_LENGTH = 130;

/** policy_codes/legacy.py BARCODE_TYPES: its byte 0 */
export const LEGACY_TYPES = Object.freeze([1, 2]);

/** policy_codes/revocation.py CONTEXT: hashed first */
export const REVOCATION_CONTEXT = new TextEncoder().encode("OMS1 revocation 2\u0000");

/** policy_codes/revocation.py: bytes of a digest */
export const DIGEST_BYTES = 6;

/** policy_codes/published_lists.py: the trust list's `format` */
export const TRUST_LIST_FORMAT = "oms-trust-list-2";

/** policy_codes/published_lists.py: the revocation list's `format` */
export const REVOCATIONS_FORMAT = "oms-revocations-2";

/** policy_codes/published_lists.py HEADINGS: the revocation list's, each a verdict; the first listing wins */
export const REVOCATION_HEADINGS = Object.freeze(["revoked", "terminated", "superseded", "suspended"]);

/** policy_codes/published_lists.py: who signs the lists */
export const REGISTRY_OWNER = "registry";

/** policy_codes/published_lists.py: how far ahead a list may be dated */
export const MAX_CLOCK_SKEW_MS = 300000;

/** policy_codes/published_lists.py STALE_AFTER: older lists get a warning */
export const STALE_AFTER_MS = 259200000;

/** policy_codes/published_lists.py: the largest cursor */
export const MAX_CURSOR = 9007199254740991;

/** policy_codes/published_lists.py ListRefusal: why lists are refused */
export const LIST_REFUSAL = Object.freeze({
  BAD_PIN: "bad_pin",
  MALFORMED: "malformed",
  UNKNOWN_KEY: "unknown_key",
  BAD_SIGNATURE: "bad_signature",
  WRONG_FORMAT: "wrong_format",
  BAD_KEY_ENTRY: "bad_key_entry",
  BAD_CURSOR: "bad_cursor",
  BAD_DIGESTS: "bad_digests",
  NOT_REGISTRY_KEY: "not_registry_key",
  OUTSIDE_KEY_WINDOW: "outside_key_window",
  KEY_COMPROMISED: "key_compromised",
  KEY_EXPIRED: "key_expired",
  ISSUED_IN_FUTURE: "issued_in_future",
  OLDER_TRUST_LIST: "older_trust_list",
  OLDER_REVOCATIONS: "older_revocations",
  STALE: "stale",
});

/** policy_codes/published_lists.py BASE64, whole */
export const BASE64_PATTERN = "(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?";

/** signing/trust_list.py BASE64URL, whole */
export const BASE64URL_PATTERN = "[A-Za-z0-9_-]*";

/** signing/trust_list.py INSTANT, whole */
export const INSTANT_PATTERN = "([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\\.([0-9]{1,6}))?(?:Z|([+-])([0-9]{2}):([0-9]{2}))";

/** signing/trust_list.py parse_instant: the first time a list may name */
export const FIRST_INSTANT_MS = -62135596800000;

/** signing/trust_list.py parse_instant: the last time a list may name, to the millisecond */
export const LAST_INSTANT_MS = 253402300799999;

/** signing/trust_list.py: the only key type */
export const JWK_KTY = "EC";

/** signing/trust_list.py: the only curve */
export const JWK_CRV = "P-256";

/** signing/trust_list.py: the only algorithm, of keys and lists */
export const JWS_ALG = "ES256";

/** signing/keys.py KeyStatus: a trust-list key's status */
export const KEY_STATUS = Object.freeze({
  ACTIVE: "active",
  RETIRED: "retired",
  COMPROMISED: "compromised",
});

/** policy_codes/verdicts.py Verdict: what a scan is told */
export const VERDICT = Object.freeze({
  VALID: "valid",
  REVOKED: "revoked",
  SUPERSEDED: "superseded",
  EXPIRED: "expired",
  SUSPENDED: "suspended",
  TERMINATED: "terminated",
  NOT_FOUND: "not_found",
  FORGED: "forged",
  UNKNOWN_KEY: "unknown_key",
  KEY_COMPROMISED: "key_compromised",
  MALFORMED: "malformed",
  NOT_A_POLICY_CODE: "not_a_policy_code",
  LEGACY_PAPER: "legacy_paper",
});
