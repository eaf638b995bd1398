"""Consent records: given, withdrawn, with the notice version they were made under, so the gate
and the person's receipts agree on what was allowed when.

`records` is public as a namespace (`from goodthings.rights.consent import records`).
"""

from goodthings.rights.consent import records
from goodthings.rights.consent.records import (
    ConsentChange,
    ConsentRecord,
    consent_purposes,
    give,
    history,
    withdraw,
)
from goodthings.rights.consent.shared import Waiting, shared_agreements, waiting_words
from goodthings.rights.consent.withdraw_all import share_choices, stop_everything

__all__ = [
    "ConsentChange",
    "ConsentRecord",
    "Waiting",
    "consent_purposes",
    "give",
    "history",
    "records",
    "share_choices",
    "shared_agreements",
    "stop_everything",
    "waiting_words",
    "withdraw",
]
