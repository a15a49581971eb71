"""A key ring: each owner's signing keys, rotated, retired or compromised.

Like itsdangerous' list of secret keys, old keys stay on the ring to verify
what they signed; only the newest active key of an owner signs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta

from signing.errors import KeyUnusable, UnknownKeyId
from signing.keys import DEFAULT_LIFETIME, KeyStatus, SigningKey, utc_now
from signing.trust_list import TrustList


class KeyRing:
    def __init__(self, keys: Iterable[SigningKey] = ()) -> None:
        self._keys: dict[bytes, SigningKey] = {}
        for key in keys:
            self.add(key)

    def __iter__(self) -> Iterator[SigningKey]:
        return iter(self._keys.values())

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: SigningKey) -> None:
        if key.kid in self._keys:
            raise KeyUnusable(f"key id {key.kid.hex()} is already on the ring")
        self._keys[key.kid] = key

    def get(self, kid: bytes) -> SigningKey:
        try:
            return self._keys[kid]
        except KeyError:
            raise UnknownKeyId(kid) from None

    def create(
        self, owner: str, not_before: datetime | None = None, lifetime: timedelta = DEFAULT_LIFETIME
    ) -> SigningKey:
        """A new active key for `owner`, alongside any it already has."""
        while True:  # a 4-byte kid collides once in billions; draw again if it does
            key = SigningKey.generate(owner, not_before, lifetime)
            if key.kid not in self._keys:
                break
        self.add(key)
        return key

    def rotate(self, owner: str, now: datetime | None = None, lifetime: timedelta = DEFAULT_LIFETIME) -> SigningKey:
        """A new active key for `owner`; its previous active keys retire."""
        for key in self.owned_by(owner):
            if key.public.status is KeyStatus.ACTIVE:
                self._set_status(key.kid, KeyStatus.RETIRED)
        return self.create(owner, now or utc_now(), lifetime)

    def retire(self, kid: bytes) -> None:
        if self.get(kid).public.status is KeyStatus.COMPROMISED:
            raise KeyUnusable("a compromised key stays compromised")
        self._set_status(kid, KeyStatus.RETIRED)

    def mark_compromised(self, kid: bytes) -> None:
        self._set_status(kid, KeyStatus.COMPROMISED)

    def owned_by(self, owner: str) -> list[SigningKey]:
        return [key for key in self._keys.values() if key.public.owner == owner]

    def signing_key(self, owner: str, at: datetime | None = None) -> SigningKey:
        """The newest active key of `owner` whose window covers `at`."""
        moment = at or utc_now()
        usable = [
            key for key in self.owned_by(owner) if key.public.status is KeyStatus.ACTIVE and key.public.covers(moment)
        ]
        if not usable:
            raise KeyUnusable(f"no active key for {owner}")
        return max(usable, key=lambda key: key.public.not_before)

    def trust_list(self) -> TrustList:
        return TrustList(key.public for key in self._keys.values())

    def _set_status(self, kid: bytes, status: KeyStatus) -> None:
        key = self.get(kid)
        self._keys[kid] = replace(key, public=key.public.with_status(status))
