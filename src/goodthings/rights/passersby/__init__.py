"""Passers-by: opt out of sensors that see device identifiers, by a keyed hash of the address."""

from goodthings.policy import IdentifierKey, OptOutGate, identifier_streams, normalise
from goodthings.rights.passersby.optouts import Held, held, opt_out

__all__ = [
    "Held",
    "IdentifierKey",
    "OptOutGate",
    "held",
    "identifier_streams",
    "normalise",
    "opt_out",
]
