"""Every action the hub writes to its ledger, in words a person reads on "Who used your data".

The table is complete on purpose: `tests/portal/test_actions.py` finds every action name the
source writes and fails when one has no words here, so no raw name such as `objection.record`
ever reaches a page.
"""

from __future__ import annotations

from types import MappingProxyType

ACTIONS = MappingProxyType(
    {
        # Uses of a person's data by others: shown first.
        "read": "used your readings",
        "share": "received your readings",
        "share.dead-letter": "could not be sent your readings, so nothing reached them",
        "share.replay": "asked to send your readings to a recipient again",
        # The hub's routine work.
        "ingest": "Readings arrived from a device",
        "purge": "Old readings were deleted because the time they may be kept ran out",
        "backup.restore": "The hub was restored from a backup, and erasures made since then were applied again",
        # Choices and requests about the person, by them or by the operator for them.
        "consent.give": "A choice was switched on",
        "consent.withdraw": "A choice was switched off",
        "objection.record": "An objection to decisions made by computer was recorded",
        "objection.withdraw": "An objection to decisions made by computer was taken back",
        "portal.sign_in": "You signed in to this portal",
        "portal.sign_out": "You signed out",
        "portal.read": "You looked at your latest readings",
        "portal.recipient": "You registered a key for encrypted downloads",
        "keys.held": "You took the key to your readings",
        "export": "A copy of the data was downloaded",
        "erase.request": "Erasure was requested",
        "erase.unreadable": "The readings were made unreadable",
        "erase.done": "The readings were deleted",
        # Passers-by, who have no account.
        "passerby.access": "A passer-by asked what is stored about their device",
        "passerby.opt-out": "A passer-by's device was opted out of collection",
        # The operator's console and accounts.
        "console.sign_in": "An operator signed in to the console",
        "console.sign_out": "An operator signed out of the console",
        "console.device_add": "An operator added a device",
        "console.device_rotate": "An operator gave a device a new password",
        "console.device_certificate": "An operator gave a device a new certificate",
        "console.device_retire": "An operator took a device out of use",
        "console.ledger_export": "An operator copied part of this record for an auditor",
        "console.share_replay": "An operator asked to send readings to a recipient again",
        "console.request_extend": "An operator gave themselves more time to answer a request",
        # Keeping the hub and its devices safe.
        "keys.rotate-master": "The hub's main key was replaced; your readings stay readable to you",
        "keys.rotate-signing": "The hub's signing key was replaced; older signatures still check",
        "share.rotate-secret": "The secret shared with a recipient was replaced",
        "quarantine": "A device was cut off because it behaved unusually; nothing it sent after that was kept",
        "release": "A device that had been cut off was allowed to send again",
        "assessment.report": "The hub was checked against good-practice and security standards",
        "probe.run": "An auditor checked the devices' network for default passwords",
        "operator.add": "An operator account was created",
        "operator.remove": "An operator account was removed",
        "operator.reset": "An operator account's sign-in was reset",
    }
)
"""Ledger action → words. Use actions complete a sentence that starts with who did it."""

USES = frozenset({"read", "share", "share.dead-letter", "share.replay"})
"""Actions in which someone other than the person used, or tried to use, their data."""

ROUTINE = frozenset({"ingest", "portal.read", "purge"})
"""Actions so frequent that a person sees them counted per day rather than one by one."""


def words(action: str) -> str:
    """The action in words; an action missing from the table is a bug the test catches."""
    return ACTIONS.get(action, "Something the hub did")
