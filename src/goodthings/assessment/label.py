"""The label: a security level and a privacy grade earned by the latest signed report.

The security levels follow the idea of Singapore's Cybersecurity Labelling Scheme, where each
level adds to the one below: level 1 is the baseline (no default passwords, a way to report
problems, a declared support period: UK PSTI and ETSI EN 303 645 clauses 5.1 to 5.3), level 2
is every ETSI provision the hub checks, level 3 adds an independent look at the devices on the
network (the auditor's probe, standing in for CLS's binary analysis), and level 4 would need a
penetration test by a third party, which no software can grant itself, so goodthings never
shows it. The privacy grade comes from the good-practice principles and the GDPR controls.

A label is only shown while the report it comes from is fresh and fails nothing it rests on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

from goodthings.transparency.notices.label_words import label_words

LABEL_VALID = timedelta(days=30)
"""How long a report earns its label: after that, assess again."""

_LEVEL_ONE_PREFIXES = ("psti-", "etsi-5.1-", "etsi-5.2-", "etsi-5.3-")


@dataclass(frozen=True)
class Label:
    security_level: int
    """0 to 3: 0 when even the baseline fails."""
    privacy_grade: str
    """A: every automatic privacy control met; B: one not met; C: more."""
    measured_at: datetime
    valid_until: datetime
    deployment: str

    def shown_at(self, now: datetime) -> bool:
        """A label is shown only while it is fresh and earns at least level 1."""
        return self.security_level >= 1 and now < self.valid_until

    def in_words(self, language: str = "en") -> str:
        """The label as a notice or a sign prints it, in `language`."""
        return label_words(
            self.deployment,
            self.security_level,
            self.privacy_grade,
            self.measured_at.date(),
            self.valid_until.date(),
            language,
        )


def label_of(report: Mapping[str, Any]) -> Label:
    """The label a report earns, from its verdicts alone."""
    verdicts = {item["provision"]: item["verdict"] for item in report["verdicts"]}
    level = 0
    if _met(verdicts, lambda p: p.startswith(_LEVEL_ONE_PREFIXES)):
        level = 1
        if _met(verdicts, lambda p: p.startswith("etsi-")):
            level = 2
            probe = [v for p, v in verdicts.items() if p in ("cra-i-2-j", "en18031-gec")]
            if probe and all(v == "pass" for v in probe):
                level = 3
    privacy_failed = sum(
        1 for p, v in verdicts.items() if p.startswith(("principle-", "gdpr-")) and v == "fail"
    )
    grade = "A" if privacy_failed == 0 else "B" if privacy_failed == 1 else "C"
    measured_at = datetime.fromisoformat(report["measured_at"])
    return Label(level, grade, measured_at, measured_at + LABEL_VALID, report["deployment"])


def _met(verdicts: Mapping[str, str], chosen: Any) -> bool:
    """Nothing chosen fails, and at least one chosen control was actually shown to pass."""
    picked = [v for p, v in verdicts.items() if chosen(p)]
    return "fail" not in picked and "pass" in picked


def badge_svg(label: Label) -> str:
    """A small badge to print beside a notice: the level, the grade and the expiry date."""
    level = f"Security {label.security_level}/4" if label.security_level else "Security: none"
    lines = [
        ("goodthings assessed", 14, "bold"),
        (f"{level} · Privacy {label.privacy_grade}", 13, "normal"),
        (f"Valid until {label.valid_until:%d %b %Y}", 11, "normal"),
    ]
    texts = "".join(
        f'<text x="12" y="{24 + index * 20}" font-size="{size}" font-weight="{weight}">'
        f"{escape(text)}</text>"
        for index, (text, size, weight) in enumerate(lines)
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="220" height="76" viewBox="0 0 220 76" '
        f'role="img" aria-label="{escape(label.in_words(), {chr(34): "&quot;"})}">'
        f"<title>{escape(label.in_words())}</title>"
        '<rect x="1" y="1" width="218" height="74" rx="8" fill="#ffffff" stroke="#1b1b1b" '
        'stroke-width="2"/>'
        f'<g font-family="Helvetica, Arial, sans-serif" fill="#1b1b1b">{texts}</g></svg>'
    )
