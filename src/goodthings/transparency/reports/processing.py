"""Records of processing (the shape of GDPR Art. 30) and a privacy impact summary.

Built from the manifest (what is declared) and the store (what is held now: readings and
consents per stream), so an auditor sees both the promise and the state.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from goodthings.core.manifest import (
    ART9_CONDITIONS,
    LEGAL_BASES,
    PERSONAL_DATA_CATEGORIES,
    PURPOSES,
    Manifest,
    is_special,
)
from goodthings.core.store import count_by_stream
from goodthings.core.store import tables as t
from goodthings.transparency.inference import evaluate
from goodthings.transparency.notices import duration_words

_SUBJECTS = {
    "owner": "owners of the devices",
    "occupant": "people who live or work in the places",
    "wearer": "people who wear the devices",
    "passers-by": "members of the public passing by",
}


@dataclass(frozen=True)
class Activity:
    """One processing activity: a personal stream used for one purpose."""

    stream: str
    description: str
    purpose: str
    purpose_text: str
    how: str
    legal_basis: str
    data_category: str
    subjects: str
    recipients: tuple[str, ...]
    retention: str
    places: tuple[str, ...]
    devices: int
    automated: str | None
    measures: tuple[str, ...]


@dataclass(frozen=True)
class Held:
    readings: int = 0
    consents_given: int = 0
    consents_withdrawn: int = 0


@dataclass(frozen=True)
class Risk:
    title: str
    detail: str
    measures: str


@dataclass(frozen=True)
class ProcessingRecord:
    deployment: str
    controller: str
    controller_contact: str
    dpo: str
    accountable: str
    generated_at: str
    storage: str
    activities: tuple[Activity, ...]
    held: dict[str, Held] = field(default_factory=dict)
    risks: tuple[Risk, ...] = ()

    @property
    def personal_streams(self) -> list[str]:
        return sorted({activity.stream for activity in self.activities})


def _contact(*parts: str | None) -> str:
    return ", ".join(part for part in parts if part)


def held_now(connection: Connection) -> dict[str, Held]:
    """Readings and current consents per `model-id/stream-name`."""
    names = {
        row.id: f"{row.model_id}/{row.name}"
        for row in connection.execute(
            select(t.streams.c.id, t.streams.c.model_id, t.streams.c.name)
        )
    }
    readings = count_by_stream(connection)
    latest: dict[tuple[str, int, str, str | None], str] = {}
    for subject, stream_id, purpose, recipient, state in connection.execute(
        select(
            t.consents.c.subject_id,
            t.consents.c.stream_id,
            t.consents.c.purpose,
            t.consents.c.recipient_id,
            t.consents.c.state,
        ).order_by(t.consents.c.id)
    ):
        latest[(subject, stream_id, purpose, recipient)] = state
    states: Counter[tuple[int, str]] = Counter((key[1], state) for key, state in latest.items())
    return {
        name: Held(
            int(readings.get(stream_id, 0)),
            states[(stream_id, "given")],
            states[(stream_id, "withdrawn")],
        )
        for stream_id, name in names.items()
    }


def build_record(
    manifest: Manifest, held: dict[str, Held] | None = None, storage: str = "SQLite"
) -> ProcessingRecord:
    """The record of processing for the manifest, with what the store holds when given."""
    operator = manifest.operator
    recipients = {recipient.id: recipient for recipient in manifest.recipients}
    activities: list[Activity] = []
    for model in manifest.device_models:
        devices = [d for d in manifest.devices if d.model == model.id]
        if not devices:
            continue
        for stream in model.streams:
            if not stream.personal:
                continue
            levels = [level.value for level in stream.minimisation]
            measures = [
                "values encrypted at rest (AES-256-GCM) under a data key per person or place",
                "collected only when the gate allows it; consent purposes stay off until given",
                f"detail levels offered: {', '.join(levels)}",
                "every decision recorded in the signed, hash-chained ledger",
            ]
            for use in stream.purposes:
                shared = tuple(
                    f"{recipients[s.recipient].name} ({recipients[s.recipient].kind}"
                    + (
                        f", {recipients[s.recipient].country}"
                        if recipients[s.recipient].country
                        else ""
                    )
                    + f"): {s.terms}"
                    for s in stream.recipients
                    if s.purpose == use.purpose and s.recipient in recipients
                )
                automation = stream.automation
                automated = None
                if automation.automated_decisions or automation.profiling:
                    kinds = [
                        name
                        for name, on in (
                            ("automated decisions", automation.automated_decisions),
                            ("profiling", automation.profiling),
                        )
                        if on
                    ]
                    automated = " and ".join(kinds) + (
                        f": {automation.description}" if automation.description else ""
                    )
                basis = LEGAL_BASES.get(use.legal_basis).label if use.legal_basis else ""
                if use.special_category_condition:
                    condition = ART9_CONDITIONS.get(use.special_category_condition).label
                    basis = f"{basis}; GDPR {condition}" if basis else f"GDPR {condition}"
                activities.append(
                    Activity(
                        stream=f"{model.id}/{stream.name}",
                        description=stream.description,
                        purpose=use.purpose,
                        purpose_text=PURPOSES.get(use.purpose).label,
                        how=use.how,
                        legal_basis=basis,
                        data_category=PERSONAL_DATA_CATEGORIES.get(stream.data_category).label
                        if stream.data_category
                        else "",
                        subjects=_SUBJECTS.get(
                            stream.about.value if stream.about else "", "people"
                        ),
                        recipients=shared,
                        retention=duration_words(stream.retention) if stream.retention else "",
                        places=tuple(sorted({d.place for d in devices})),
                        devices=len(devices),
                        automated=automated,
                        measures=tuple(measures),
                    )
                )
    return ProcessingRecord(
        deployment=manifest.deployment.name,
        controller=operator.legal_name,
        controller_contact=_contact(
            operator.contact.email, operator.contact.phone, operator.contact.address
        ),
        dpo=_contact(
            operator.data_protection_contact.name,
            operator.data_protection_contact.email,
            operator.data_protection_contact.phone,
        ),
        accountable=_contact(
            operator.accountable_person.name,
            operator.accountable_person.role,
            operator.accountable_person.email,
        ),
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        storage=storage,
        activities=tuple(activities),
        held=held or {},
        risks=tuple(_risks(manifest, activities)),
    )


def _risks(manifest: Manifest, activities: list[Activity]) -> list[Risk]:
    risks = [
        Risk(
            f"Inference: {inference.rule.reveals}",
            f"{inference.rule.explanation} Streams: {', '.join(inference.streams)}; "
            f"places: {', '.join(inference.places)}.",
            "Disclosed in the notices; minimise or drop one of the streams if the purpose does "
            "not need the combination.",
        )
        for inference in evaluate(manifest)
    ]
    special = sorted(
        {
            f"{model.id}/{stream.name}"
            for model in manifest.device_models
            for stream in model.streams
            if stream.personal and is_special(stream.data_category)
        }
    )
    if special:
        risks.append(
            Risk(
                "Special category data (GDPR Art. 9)",
                f"Streams: {', '.join(special)}. GDPR Art. 9 allows them only under a condition "
                "of Art. 9(2); each purpose names its own (see its legal basis).",
                "Encrypted per person; shortest useful retention; explicit consent where the "
                "legal basis is consent.",
            )
        )
    automated = sorted({a.stream for a in activities if a.automated})
    if automated:
        risks.append(
            Risk(
                "Automated decisions and profiling",
                f"Streams: {', '.join(automated)}.",
                "Declared in the notices; people can object, and the operator reviews objections.",
            )
        )
    if any(a.subjects == _SUBJECTS["passers-by"] for a in activities):
        risks.append(
            Risk(
                "People who cannot be asked",
                "Passers-by are recorded without being able to consent in advance.",
                "Public-interest basis, short retention, signs with a QR code to the notice.",
            )
        )
    return risks
