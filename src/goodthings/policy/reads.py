"""Who may read which stored readings: the gate's decision for everything that leaves the store.

Every read that hands values of personal readings to someone asks one of these pure functions
first, per (device, stream):

* an application, for one purpose it declared (`for_application`): what the gate allows for
  that purpose alone (for a consent-based purpose, everyone concerned said yes), at the
  coarsest level any of them chose, and nothing while someone concerned objects to the
  automated decisions or profiling the application or stream declares;
* a recipient the operator shares with (`for_recipient`): the gate over the consents given to
  that recipient, for the shared purpose;
* the person the readings are about (`for_person`): every stream about them, exact, whatever
  its legal basis or their consents, because seeing and taking their own data is their right
  of access (GDPR Art. 15, 20); a household's stream is about each person living there.

The hub's own work needs no decision because it hands no value to anyone: erasure, a
passer-by's opt-out and retention read only to count, match or delete, carry out a right or the
law, and are recorded in the ledger like every read.

The caller then reads through `goodthings.core.store.readings`, opens values with
`goodthings.core.keys.opener` and records the read in the ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from goodthings.policy.decisions import Level, StreamDecision
from goodthings.policy.gate import (
    Choice,
    ConsentKey,
    DeviceFacts,
    StreamRule,
    decide,
    key_holder,
    people_concerned,
)

OBJECTED = "objected"
NOT_ABOUT_THEM = "not_about_them"


@dataclass(frozen=True, slots=True)
class ReadDecision:
    """Whether a reader may have the values of one stream of one device, and how finely.

    `gate` carries the level (and its step or window) the values must be minimised to.
    """

    allowed: bool
    gate: StreamDecision
    withheld: str | None = None
    """Why not: the gate's reason, `objected`, or `not_about_them`."""


def for_application(
    rule: StreamRule,
    device: DeviceFacts,
    choices: Mapping[ConsentKey, Choice],
    purpose: str,
    *,
    automated: bool,
    objections: frozenset[tuple[str, int]],
) -> ReadDecision:
    """An application reading for `purpose`; `objections` holds (person, stream id) pairs."""
    decision = _for_purpose(rule, device, choices, purpose)
    if decision.allowed and automated:
        people = people_concerned(rule, device)
        if any((person, rule.stream_id) in objections for person in people):
            return ReadDecision(False, decision.gate, OBJECTED)
    return decision


def for_recipient(
    rule: StreamRule, device: DeviceFacts, choices: Mapping[ConsentKey, Choice], purpose: str
) -> ReadDecision:
    """A recipient receiving the stream for `purpose`; `choices` are the consents to share."""
    return _for_purpose(rule, device, choices, purpose)


def for_person(rule: StreamRule, device: DeviceFacts, subject_id: str) -> ReadDecision:
    """The person reading (or exporting) their own readings: exact, whatever the legal basis."""
    about = subject_id in people_concerned(rule, device)
    gate = StreamDecision(
        rule.stream_id,
        rule.personal,
        about,
        Level.exact if about else Level.off,
        None,
        key_holder(rule, device),
    )
    return ReadDecision(about, gate, None if about else NOT_ABOUT_THEM)


def _for_purpose(
    rule: StreamRule, device: DeviceFacts, choices: Mapping[ConsentKey, Choice], purpose: str
) -> ReadDecision:
    """The gate's decision for this one purpose alone."""
    gate = decide(_only(rule, purpose), device, choices)
    if not gate.collect:
        return ReadDecision(False, gate, str(gate.reason or "no_consent"))
    return ReadDecision(True, gate)


def _only(rule: StreamRule, purpose: str) -> StreamRule:
    return replace(rule, purposes=tuple(use for use in rule.purposes if use[0] == purpose))
