"""A key ring: each owner's signing keys, rotated, retired or compromised.

Like itsdangerous' list of secret keys, old keys stay on the ring to verify
what they signed; only the newest active key of an owner signs.

The ring's rules need only what a trust list knows of each key (its public
entry), so a ring may hold entries whose private half it does not have: the
registry's key store keeps its keys encrypted and builds a ring of entries to
apply these rules, then decrypts only the key that is to sign.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from signing.errors import KeyUnusable, UnknownKeyId
from signing.keys import DEFAULT_LIFETIME, KeyStatus, PublicKey, SigningKey, utc_now
from signing.trust_list import TrustList


class KeyRing:
    def __init__(self, keys: Iterable[SigningKey | PublicKey] = ()) -> None:
        self._entries: dict[bytes, PublicKey] = {}
        self._private: dict[bytes, SigningKey] = {}
        for key in keys:
            self.add(key)

    def __iter__(self) -> Iterator[PublicKey]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, key: SigningKey | PublicKey) -> None:
        """A key, or a key's public entry alone."""
        entry = key.public if isinstance(key, SigningKey) else key
        if entry.kid in self._entries:
            raise KeyUnusable(f"key id {entry.kid.hex()} is already on the ring")
        self._entries[entry.kid] = entry
        if isinstance(key, SigningKey):
            self._private[entry.kid] = key

    def entry(self, kid: bytes) -> PublicKey:
        try:
            return self._entries[kid]
        except KeyError:
            raise UnknownKeyId(kid) from None

    def get(self, kid: bytes) -> SigningKey:
        """The key with its current entry; `KeyUnusable` if the ring holds its entry only."""
        entry = self.entry(kid)
        private = self._private.get(kid)
        if private is None:
            raise KeyUnusable(f"the ring holds only the public half of key {kid.hex()}")
        return SigningKey(private.private_key, entry)

    def create(
        self, owner: str, not_before: datetime | None = None, lifetime: timedelta = DEFAULT_LIFETIME
    ) -> SigningKey:
        """A new active key for `owner`, alongside any it already has."""
        while True:  # a 4-byte kid collides once in billions; draw again if it does
            key = SigningKey.generate(owner, not_before, lifetime)
            if key.kid not in self._entries:
                break
        self.add(key)
        return key

    def rotate(self, owner: str, now: datetime | None = None, lifetime: timedelta = DEFAULT_LIFETIME) -> SigningKey:
        """A new active key for `owner`; its previous active keys retire."""
        moment = now or utc_now()
        for entry in self.owned_by(owner):
            if entry.status is KeyStatus.ACTIVE:
                self._set_status(entry.kid, KeyStatus.RETIRED, moment)
        return self.create(owner, moment, lifetime)

    def retire(self, kid: bytes, now: datetime | None = None) -> None:
        if self.entry(kid).status is KeyStatus.COMPROMISED:
            raise KeyUnusable("a compromised key stays compromised")
        self._set_status(kid, KeyStatus.RETIRED, now or utc_now())

    def mark_compromised(self, kid: bytes) -> None:
        self._set_status(kid, KeyStatus.COMPROMISED)

    def owned_by(self, owner: str) -> list[PublicKey]:
        return [entry for entry in self._entries.values() if entry.owner == owner]

    def signing_entry(self, owner: str, at: datetime | None = None) -> PublicKey:
        """Which key of `owner` signs at `at`: the newest active one whose window covers it."""
        moment = at or utc_now()
        usable = [entry for entry in self.owned_by(owner) if entry.status is KeyStatus.ACTIVE and entry.covers(moment)]
        if not usable:
            raise KeyUnusable(f"no active key for {owner}")
        return max(usable, key=lambda entry: entry.not_before)

    def signing_key(self, owner: str, at: datetime | None = None) -> SigningKey:
        """The newest active key of `owner` whose window covers `at`."""
        return self.get(self.signing_entry(owner, at).kid)

    def trust_list(self) -> TrustList:
        return TrustList(self._entries.values())

    def _set_status(self, kid: bytes, status: KeyStatus, at: datetime | None = None) -> None:
        self._entries[kid] = self.entry(kid).with_status(status, at)
