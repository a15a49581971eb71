"""Encrypted PKCS#8 with scrypt: the private-key encryption `cryptography` reads but does not write.

`cryptography` (50) writes an encrypted PKCS#8 key only with BestAvailableEncryption: PBKDF2 at a fixed
2048 rounds, which a guesser tries thousands of times a second per core. Its encryption builder, which
sets a work factor, refuses PKCS#8 (OpenSSH and PKCS#12 only); PKCS#12's raises the key's rounds but
keeps its MAC at 2048, so a guess is checked against the MAC as cheaply as before; OpenSSH's needs the
bcrypt package. So the standard structure is written here: PKCS#8's EncryptedPrivateKeyInfo with PBES2
(RFC 8018), the memory-hard scrypt as its key derivation (RFC 7914, section 7) and AES-256-CBC, under the
usual "ENCRYPTED PRIVATE KEY" label. `cryptography` and OpenSSL read it as they read any encrypted key.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

#: Object identifiers, DER-encoded: PBES2 (1.2.840.113549.1.5.13), scrypt (1.3.6.1.4.1.11591.4.11) and
#: AES-256-CBC (2.16.840.1.101.3.4.1.42).
_PBES2 = bytes.fromhex("06092a864886f70d01050d")
_SCRYPT = bytes.fromhex("06092b06010401da47040b")
_AES_256_CBC = bytes.fromhex("060960864801650304012a")
_KEY_LENGTH = 32
_SALT_LENGTH = 16
_BLOCK = 16
_PEM_LINE = 64


@dataclass(frozen=True)
class ScryptCost:
    """scrypt's parameters: n·r·p blocks of work, 128·n·r bytes of memory for each guess."""

    n: int
    r: int
    p: int


def _item(tag: int, contents: bytes) -> bytes:
    """One DER item: its tag, its length (short form below 128 bytes, long form above), its contents."""
    size = len(contents)
    if size < 0x80:
        return bytes([tag, size]) + contents
    width = (size.bit_length() + 7) // 8
    return bytes([tag, 0x80 | width]) + size.to_bytes(width, "big") + contents


def _sequence(*items: bytes) -> bytes:
    return _item(0x30, b"".join(items))


def _integer(value: int) -> bytes:
    return _item(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _octets(value: bytes) -> bytes:
    return _item(0x04, value)


def encrypt(private_key_info: bytes, passphrase: bytes, cost: ScryptCost) -> bytes:
    """The PEM of an unencrypted PKCS#8 key (DER), encrypted under `passphrase` at scrypt's `cost`."""
    salt, iv = os.urandom(_SALT_LENGTH), os.urandom(_BLOCK)
    key = Scrypt(salt=salt, length=_KEY_LENGTH, n=cost.n, r=cost.r, p=cost.p).derive(passphrase)
    padder = padding.PKCS7(_BLOCK * 8).padder()
    encryptor = Cipher(algorithms.AES256(key), modes.CBC(iv)).encryptor()
    encrypted = encryptor.update(padder.update(private_key_info) + padder.finalize()) + encryptor.finalize()
    scrypt = _sequence(
        _SCRYPT,
        _sequence(_octets(salt), _integer(cost.n), _integer(cost.r), _integer(cost.p), _integer(_KEY_LENGTH)),
    )
    pbes2 = _sequence(_PBES2, _sequence(scrypt, _sequence(_AES_256_CBC, _octets(iv))))
    text = base64.b64encode(_sequence(pbes2, _octets(encrypted))).decode("ascii")
    lines = [text[start : start + _PEM_LINE] for start in range(0, len(text), _PEM_LINE)]
    return "\n".join(
        ["-----BEGIN ENCRYPTED PRIVATE KEY-----", *lines, "-----END ENCRYPTED PRIVATE KEY-----", ""]
    ).encode()
