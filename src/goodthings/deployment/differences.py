"""What a planned change does to each value, in words: "firmware version: 5.1.0 → 5.0.2".

Rows keep the manifest's entries as columns and, for streams, recipients and applications, as a
whole `spec` document; a person reading the plan wants the setting that changed, so a `spec`
is compared entry by entry and every column is named as the manifest's reader knows it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Difference", "differences", "in_words"]

_WORDS = {
    "place_id": "place",
    "subject_id": "person",
    "model_id": "device model",
    "firmware": "firmware version",
    "firmware_versions": "firmware versions",
    "support_until": "supported until",
    "update_mechanism": "how it is updated",
    "mud_url": "usage profile (MUD) address",
    "operated_by": "operated by",
    "personal": "personal data",
    "legal_basis": "legal basis",
    "data_categories": "kinds of data",
    "automated_decisions": "automated decisions",
}
# retention_seconds is retention said again in seconds; spec's "retention" names the change
_SAID_ELSEWHERE = frozenset({"retention_seconds"})


@dataclass(frozen=True)
class Difference:
    """One setting a change alters: what the person calls it, and its value before and after."""

    setting: str
    before: str
    after: str

    def __str__(self) -> str:
        return f"{self.setting}: {self.before} → {self.after}"


def differences(
    before: Mapping[str, Any], after: Mapping[str, Any], fields: tuple[str, ...]
) -> list[Difference]:
    """Each changed field as a difference; a changed `spec` as one difference per entry."""
    found: list[Difference] = []
    for field in fields:
        if field in _SAID_ELSEWHERE:
            continue
        old, new = before.get(field), after.get(field)
        if field == "spec" and isinstance(old, Mapping) and isinstance(new, Mapping):
            for entry in dict.fromkeys([*old, *new]):
                if old.get(entry) != new.get(entry) and entry not in fields:
                    found.append(_difference(entry, old.get(entry), new.get(entry)))
        else:
            found.append(_difference(field, old, new))
    return found


def in_words(value: Any) -> str:
    """A stored value as a person reads it: yes/no, lists joined, "nothing" for absent."""
    if value is None or value == [] or value == {}:
        return "nothing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(in_words(item) for item in value)
    if isinstance(value, Mapping):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _difference(field: str, old: Any, new: Any) -> Difference:
    setting = _WORDS.get(field, field.replace("_", " "))
    return Difference(setting, in_words(old), in_words(new))
