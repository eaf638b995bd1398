"""The gate: one engine for every decision about personal data, pure functions over what the
store says (`inputs`), so ingest, application reads and sharing decide the same way.

`inputs` is public as a namespace (`from goodthings.policy import inputs`).
"""

from goodthings.policy import inputs
from goodthings.policy.decisions import DevicePolicy, Reason, StreamDecision
from goodthings.policy.gate import (
    Choice,
    ConsentKey,
    DeviceFacts,
    StreamRule,
    decide,
    decide_all,
    key_holder,
    people_concerned,
)
from goodthings.policy.identifiers import IDENTIFIER_CATEGORIES, IdentifierKey, normalise
from goodthings.policy.inputs import PolicyInputs
from goodthings.policy.optouts import OptOutGate, identifier_streams

__all__ = [
    "IDENTIFIER_CATEGORIES",
    "Choice",
    "ConsentKey",
    "DeviceFacts",
    "DevicePolicy",
    "IdentifierKey",
    "OptOutGate",
    "PolicyInputs",
    "Reason",
    "StreamDecision",
    "StreamRule",
    "decide",
    "decide_all",
    "identifier_streams",
    "inputs",
    "key_holder",
    "normalise",
    "people_concerned",
]
