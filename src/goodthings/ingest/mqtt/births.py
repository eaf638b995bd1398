"""Firmware reports (`gt/<device>/birth`) that came with a batch, recorded after it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from goodthings.core.errors import GoodthingsError

logger = logging.getLogger(__name__)

OnBirth = Callable[[str, bytes], None]
"""Records a device's firmware report: (device id, payload of `gt/<device>/birth`)."""


def record_births(on_birth: OnBirth | None, births: Iterable[tuple[str, bytes]]) -> None:
    """Firmware reports are worth one try each: a bad one would be just as bad again."""
    if on_birth is None:
        return
    for device_id, payload in births:
        try:
            on_birth(device_id, payload)
        except GoodthingsError as error:
            logger.warning("a birth message from %s was refused: %s", device_id, error)
        except Exception as error:
            logger.error(
                "a birth message from %s was not recorded (%s)", device_id, type(error).__name__
            )
