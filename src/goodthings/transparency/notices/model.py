"""A notice's content, built from the manifest: pure data, the same for every language.

A notice covers a scope (the whole deployment, one place, one device or one stream) and says
what is collected, why, on which legal basis, how it is used, who receives it on what terms,
how long it is kept, which decisions are automated, what can be inferred and whom to contact.
Its version is the SHA-256 of its canonical JSON: the hash consents record.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from goodthings.core.errors import GoodthingsError
from goodthings.core.manifest import Contact, Device, LocalText, Manifest, Stream, is_consent
from goodthings.transparency.inference import evaluate


class NoticeNotFound(GoodthingsError):
    """The scope asked for does not exist in the deployment."""


class ScopeKind(StrEnum):
    deployment = "deployment"
    place = "place"
    device = "device"
    stream = "stream"


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind = ScopeKind.deployment
    id: str | None = None

    @property
    def path(self) -> str:
        """Where the notice is served."""
        return "/notice" if self.id is None else f"/notice/{self.kind.value}/{self.id}"


@dataclass(frozen=True)
class ContactEntry:
    name: str | None
    role: str | None
    email: str | None
    phone: str | None
    address: str | None
    url: str | None


@dataclass(frozen=True)
class PlaceEntry:
    id: str
    name: str
    kind: str
    where: str


@dataclass(frozen=True)
class DeviceEntry:
    id: str
    name: str
    place: str


@dataclass(frozen=True)
class PurposeEntry:
    purpose: str
    legal_basis: str | None
    how: str
    special_category_condition: str | None = None

    @property
    def needs_consent(self) -> bool:
        """Whether this use waits for the person's yes (any of DPV's consent types)."""
        return is_consent(self.legal_basis)


@dataclass(frozen=True)
class ShareEntry:
    recipient: str
    name: str
    kind: str
    country: str | None
    purpose: str
    terms: str


@dataclass(frozen=True)
class AutomationEntry:
    automated_decisions: bool
    profiling: bool
    description: str | None


@dataclass(frozen=True)
class StreamEntry:
    ref: str
    name: str
    description: str
    unit: str | None
    personal: bool
    about: str | None
    data_category: str | None
    devices: tuple[DeviceEntry, ...]
    purposes: tuple[PurposeEntry, ...]
    retention: str | None
    levels: tuple[str, ...]
    recipients: tuple[ShareEntry, ...]
    automation: AutomationEntry | None


@dataclass(frozen=True)
class ApplicationEntry:
    id: str
    name: str
    operated_by: str
    purposes: tuple[str, ...]
    streams: tuple[str, ...]
    automation: AutomationEntry | None


@dataclass(frozen=True)
class InferenceEntry:
    rule: str
    reveals: str
    explanation: str
    places: tuple[str, ...]
    streams: tuple[str, ...]


@dataclass(frozen=True)
class Notice:
    scope: Scope
    title: str
    deployment_id: str
    deployment_name: str
    description: str
    controller: str
    contact: ContactEntry
    data_protection_contact: ContactEntry
    accountable_person: ContactEntry
    places: tuple[PlaceEntry, ...]
    streams: tuple[StreamEntry, ...]
    applications: tuple[ApplicationEntry, ...]
    inferences: tuple[InferenceEntry, ...]

    def canonical(self) -> bytes:
        """The bytes the version hash is taken over: sorted keys, no whitespace, UTF-8."""
        return json.dumps(
            _with_translations(asdict(self)),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode("utf-8")

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()

    @property
    def personal_streams(self) -> tuple[StreamEntry, ...]:
        return tuple(stream for stream in self.streams if stream.personal)


def _with_translations(value: Any) -> Any:
    """A text given by language as its mapping, so a changed translation is a new version (a
    plain string stays as it is: a notice without translations hashes as before)."""
    if isinstance(value, LocalText):
        return value.translations
    if isinstance(value, dict):
        return {key: _with_translations(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_with_translations(item) for item in value]
    return value


def _contact(contact: Contact, role: str | None = None) -> ContactEntry:
    return ContactEntry(
        contact.name, role, contact.email, contact.phone, contact.address, contact.url
    )


def _automation(
    automated_decisions: bool, profiling: bool, description: str | None
) -> AutomationEntry | None:
    if not (automated_decisions or profiling):
        return None
    return AutomationEntry(automated_decisions, profiling, description)


def _stream_entry(
    manifest: Manifest, model_id: str, stream: Stream, devices: list[Device]
) -> StreamEntry:
    recipients = {recipient.id: recipient for recipient in manifest.recipients}
    shares = tuple(
        ShareEntry(
            share.recipient,
            recipients[share.recipient].name,
            recipients[share.recipient].kind,
            recipients[share.recipient].country,
            share.purpose,
            share.terms,
        )
        for share in stream.recipients
        if share.recipient in recipients
    )
    automation = stream.automation
    return StreamEntry(
        ref=f"{model_id}/{stream.name}",
        name=stream.name,
        description=stream.description,
        unit=stream.unit,
        personal=stream.personal,
        about=stream.about.value if stream.about else None,
        data_category=stream.data_category,
        devices=tuple(DeviceEntry(d.id, d.name or d.id, d.place) for d in devices),
        purposes=tuple(
            PurposeEntry(u.purpose, u.legal_basis, u.how, u.special_category_condition)
            for u in stream.purposes
        ),
        retention=stream.retention,
        levels=tuple(level.value for level in stream.minimisation),
        recipients=shares,
        automation=_automation(
            automation.automated_decisions, automation.profiling, automation.description
        ),
    )


def _selected(manifest: Manifest, scope: Scope) -> tuple[str, list[Device], str | None]:
    """The scope's title, its devices, and the one stream it is limited to (if any)."""
    if scope.kind is ScopeKind.deployment:
        return manifest.deployment.name, list(manifest.devices), None
    if scope.kind is ScopeKind.place:
        place = next((p for p in manifest.places if p.id == scope.id), None)
        if place is None:
            raise NoticeNotFound(_missing("place", scope.id, [p.id for p in manifest.places]))
        return place.name, [d for d in manifest.devices if d.place == place.id], None
    if scope.kind is ScopeKind.device:
        device = next((d for d in manifest.devices if d.id == scope.id), None)
        if device is None:
            raise NoticeNotFound(_missing("device", scope.id, [d.id for d in manifest.devices]))
        return device.name or device.id, [device], None
    ref = scope.id or ""
    model_id, _, name = ref.rpartition("/")
    models = [
        model
        for model in manifest.device_models
        if (not model_id or model.id == model_id) and any(s.name == name for s in model.streams)
    ]
    if not models:
        known = sorted({s.name for m in manifest.device_models for s in m.streams})
        raise NoticeNotFound(_missing("stream", ref, known))
    ids = {model.id for model in models}
    return name, [d for d in manifest.devices if d.model in ids], name


def _missing(kind: str, wanted: str | None, known: list[str]) -> str:
    return f"there is no {kind} {wanted!r} in this deployment; its {kind}s are: " + (
        ", ".join(sorted(known)) or "none"
    )


def build_notice(manifest: Manifest, scope: Scope | None = None) -> Notice:
    """The notice for `scope`, from the manifest alone."""
    scope = scope or Scope()
    title, devices, only = _selected(manifest, scope)
    streams: list[StreamEntry] = []
    for model in manifest.device_models:
        on_model = [d for d in devices if d.model == model.id]
        if not on_model:
            continue
        for stream in model.streams:
            if only is None or stream.name == only:
                streams.append(_stream_entry(manifest, model.id, stream, on_model))
    refs = {s.ref for s in streams}
    names = {s.name for s in streams}
    applications = tuple(
        ApplicationEntry(
            app.id,
            app.name,
            app.operated_by,
            tuple(app.purposes),
            tuple(app.streams),
            _automation(
                app.automation.automated_decisions,
                app.automation.profiling,
                app.automation.description,
            ),
        )
        for app in manifest.applications
        if any(s in refs or s in names for s in app.streams)
    )
    used_places = {d.place for d in devices}
    inferences = tuple(
        InferenceEntry(i.rule.id, i.rule.reveals, i.rule.explanation, i.places, i.streams)
        for i in evaluate(manifest)
        if refs & set(i.streams) and used_places & set(i.places)
    )
    operator = manifest.operator
    person = operator.accountable_person
    return Notice(
        scope=scope,
        title=title,
        deployment_id=manifest.deployment.id,
        deployment_name=manifest.deployment.name,
        description=manifest.deployment.description,
        controller=operator.legal_name,
        contact=_contact(operator.contact),
        data_protection_contact=_contact(operator.data_protection_contact),
        accountable_person=_contact(person, person.role),
        places=tuple(
            PlaceEntry(p.id, p.name, p.kind.value, p.address or p.area or "")
            for p in manifest.places
            if p.id in used_places
        ),
        streams=tuple(streams),
        applications=applications,
        inferences=inferences,
    )


def every_scope(manifest: Manifest) -> list[Scope]:
    """The deployment and each place, device and stream: every notice there is."""
    names = sorted({s.name for m in manifest.device_models for s in m.streams})
    return [
        Scope(),
        *(Scope(ScopeKind.place, p.id) for p in manifest.places),
        *(Scope(ScopeKind.device, d.id) for d in manifest.devices),
        *(Scope(ScopeKind.stream, name) for name in names),
    ]
