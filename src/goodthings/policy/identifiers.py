"""Device identifiers of passers-by: normalised, and known to the hub only as a keyed hash.

A Wi-Fi or Bluetooth address is 48 bits: anyone holding a plain hash could try them all. So the
hub keeps HMAC-SHA256 under a key derived from its master key; without that key the stored
hashes say nothing, and the addresses themselves are never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from goodthings.core.keys import SecretRoot

_HEX = re.compile(r"[0-9a-f]{12}")
IDENTIFIER_CATEGORIES = frozenset({"MACAddress"})
"""DPV categories of streams whose values are device identifiers people can opt out of."""


def normalise(address: str) -> str:
    """`AA-BB-CC-DD-EE-FF`, `aabb.ccdd.eeff` or `aa:bb:…` → `aa:bb:cc:dd:ee:ff`; ValueError if none."""
    digits = re.sub(r"[\s:.\-]", "", address.strip().lower())
    if not _HEX.fullmatch(digits):
        raise ValueError(
            f"{address!r} is not a Wi-Fi or Bluetooth address; it has 12 hexadecimal digits, "
            "usually written like 3C:22:FB:12:34:56 (your phone's settings show it)"
        )
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


class IdentifierKey:
    """Keyed hashes of identifiers, under a key derived from the deployment's master key."""

    def __init__(self, root: SecretRoot) -> None:
        self._key = root.derive(b"goodthings-passers-by:v1")

    def digest(self, address: str) -> str:
        """The keyed hash of a normalised address."""
        return hmac.new(self._key, address.encode(), hashlib.sha256).hexdigest()

    def of_value(self, value: object) -> str | None:
        """The keyed hash of a reading's value when it is an address, else None."""
        if not isinstance(value, str):
            return None
        try:
            return self.digest(normalise(value))
        except ValueError:
            return None
