"""The device password policy: no default, shared, known-breached or guessable passwords.

Checks run in a fixed order and the first that fails is the reason given, so an operator
always learns the most useful fact first ("this is on Mirai's list" beats "too weak").
The bundled lists and their sources are in `data/` (see `data/README.md`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib.resources import files

MIN_LENGTH = 12
MAX_LENGTH = 128
"""zxcvbn's cost grows with length; nobody types a longer device password."""
MIN_SCORE = 3
"""zxcvbn's 0-4 scale: 3 is "safely unguessable: moderate protection from offline attacks"."""


class Refusal(StrEnum):
    """Why a password was refused: a stable code, for counting and for scripts."""

    empty = "empty"
    too_long = "too-long"
    mirai = "mirai"
    iot_default = "iot-default"
    names_device = "names-device"
    too_short = "too-short"
    weak = "weak"
    reused = "reused"


@dataclass(frozen=True)
class Verdict:
    refusal: Refusal | None
    reason: str
    """In plain words: why it was refused, or that it is acceptable."""

    @property
    def accepted(self) -> bool:
        return self.refusal is None


ACCEPTED = Verdict(None, "the password is acceptable")

_LISTS = {
    Refusal.mirai: "mirai.txt",
    Refusal.iot_default: "iot-defaults.txt",
}


@cache
def bundled_list(refusal: Refusal) -> tuple[tuple[str, str], ...]:
    """The (username, password) pairs of a bundled list, as published."""
    text = (files("goodthings.security") / "data" / _LISTS[refusal]).read_text(encoding="utf-8")
    pairs = []
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        username, _, password = line.partition(":")
        pairs.append((username, password))
    return tuple(pairs)


@cache
def _known(refusal: Refusal) -> frozenset[str]:
    return frozenset(_normal(password) for _user, password in bundled_list(refusal))


def _normal(password: str) -> str:
    return password.strip().casefold()


def check_password(
    candidate: str,
    *,
    device_id: str | None = None,
    used_by: Callable[[str], str | None] | None = None,
) -> Verdict:
    """Judge `candidate` as a device password; `used_by` names another device already using it."""
    if not candidate.strip():
        return Verdict(Refusal.empty, "a password is needed; an empty one is Mirai's favourite")
    if len(candidate) > MAX_LENGTH:
        return Verdict(Refusal.too_long, f"use at most {MAX_LENGTH} characters")
    normal = _normal(candidate)
    if normal in _known(Refusal.mirai):
        return Verdict(
            Refusal.mirai,
            "this password is on the Mirai botnet's list of default credentials, "
            "which infected hundreds of thousands of devices; choose a new random one",
        )
    if normal in _known(Refusal.iot_default):
        return Verdict(
            Refusal.iot_default,
            "this is a manufacturer's default password of IoT devices, published in lists "
            "attackers use; choose a new random one",
        )
    if device_id and device_id.casefold() in normal:
        return Verdict(
            Refusal.names_device,
            f"the password contains the device's name {device_id!r}, the first thing an "
            "attacker tries",
        )
    if len(candidate) < MIN_LENGTH:
        return Verdict(
            Refusal.too_short,
            f"use at least {MIN_LENGTH} characters (this has {len(candidate)}); "
            "a few random words or a generated password are best",
        )
    from zxcvbn import zxcvbn  # its dictionaries are ~12 MiB: loaded when a password is set

    strength = zxcvbn(candidate, user_inputs=[device_id] if device_id else [])
    if strength["score"] < MIN_SCORE:
        feedback = strength["feedback"]
        hints = " ".join(filter(None, [feedback["warning"], *feedback["suggestions"]]))
        return Verdict(
            Refusal.weak,
            f"the password is too easy to guess (strength {strength['score']} of 4, "
            f"at least {MIN_SCORE} needed)" + (f": {hints}" if hints else ""),
        )
    other = used_by(candidate) if used_by is not None else None
    if other is not None:
        return Verdict(
            Refusal.reused,
            f"device {other!r} already uses this password; each device needs its own, "
            "so that one leaked password opens one device only",
        )
    return ACCEPTED


def fingerprint(key: bytes, secret: str) -> str:
    """A keyed digest of a secret, to find reuse across devices without keeping the secret.

    Salted argon2id hashes cannot be compared with each other; this HMAC can, and is worthless
    without the deployment's key, which never enters the database.
    """
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def every_bundled_password() -> Iterable[tuple[Refusal, str]]:
    """Each (list, password) pair shipped with goodthings, for tests and audits."""
    for refusal in _LISTS:
        for _user, password in bundled_list(refusal):
            yield refusal, password
