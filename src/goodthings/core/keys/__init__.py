"""Key custody: the master key, the signing key, per-person data keys and opening readings."""

from goodthings.core.keys.datakeys import Keyring, UnreadableError, Value
from goodthings.core.keys.opener import UNREADABLE, Opened, ReadingOpener, Unreadable

__all__ = [
    "UNREADABLE",
    "Keyring",
    "Opened",
    "ReadingOpener",
    "Unreadable",
    "UnreadableError",
    "Value",
]
