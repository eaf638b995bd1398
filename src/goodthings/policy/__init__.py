"""The gate: one engine for every decision about personal data, pure functions over what the
store says (`inputs`), so ingest, application reads and sharing decide the same way.

`inputs`, `reads`, `changes` and `minimise` are public as namespaces
(`from goodthings.policy import reads`): their functions read best with the module's name.
"""

from goodthings.policy import changes, inputs, minimise, reads
from goodthings.policy.decisions import DevicePolicy, Level, Reason, StreamDecision
from goodthings.policy.gate import (
    Agreement,
    Choice,
    ConsentKey,
    DeviceFacts,
    StreamRule,
    agreement,
    decide,
    decide_all,
    key_holder,
    people_concerned,
)
from goodthings.policy.identifiers import IDENTIFIER_CATEGORIES, IdentifierKey, normalise
from goodthings.policy.inputs import PolicyInputs
from goodthings.policy.optouts import OptOutGate, identifier_streams
from goodthings.policy.reads import ReadDecision

__all__ = [
    "IDENTIFIER_CATEGORIES",
    "Agreement",
    "Choice",
    "ConsentKey",
    "DeviceFacts",
    "DevicePolicy",
    "IdentifierKey",
    "Level",
    "OptOutGate",
    "PolicyInputs",
    "ReadDecision",
    "Reason",
    "StreamDecision",
    "StreamRule",
    "agreement",
    "changes",
    "decide",
    "decide_all",
    "identifier_streams",
    "inputs",
    "key_holder",
    "minimise",
    "normalise",
    "people_concerned",
    "reads",
]
