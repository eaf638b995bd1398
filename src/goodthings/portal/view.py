"""What is collected about a person, read from the manifest, their choices and their readings.

The portal's main page is built from this read model: per device and stream, what it is, why
(purpose, legal basis, how it is used), who receives it on what terms, how long it is kept,
automated decisions, the person's current choice, and their latest readings, decrypted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from goodthings.core.keys import Keyring, ReadingOpener
from goodthings.core.manifest import (
    LEGAL_BASES,
    PERSONAL_DATA_CATEGORIES,
    PURPOSES,
    in_language,
    is_consent,
)
from goodthings.core.store import Order, Selection, moment_of, monitoring, select_readings
from goodthings.core.store import tables as t
from goodthings.policy import (
    Choice,
    ConsentKey,
    DeviceFacts,
    StreamRule,
    agreement,
    inputs,
    key_holder,
    people_concerned,
    reads,
)
from goodthings.portal.i18n import translations
from goodthings.portal.words import purpose_words
from goodthings.rights import objections
from goodthings.rights.consent import Waiting, share_choices
from goodthings.transparency.notices import applied_manifest, duration_words
from goodthings.transparency.notices.render import translations as notice_translations

LATEST = 24
_LEVEL_WORDS = {
    "exact": "Exact values",
    "coarse": "Rounded values",
    "aggregate": "Only totals or averages",
    "off": "Off: not collected for this",
}


@dataclass(frozen=True)
class Use:
    purpose: str
    label: str
    why: str
    legal_basis: str | None
    basis_words: str
    how: str
    needs_consent: bool
    given: bool
    level: str
    together: str | None = None
    """For a stream about everyone in a shared place: that collection waits until every
    occupant agrees, and how many have (never who)."""


@dataclass(frozen=True)
class Share:
    recipient: str
    name: str
    purpose: str
    terms: str
    given: bool


@dataclass(frozen=True)
class Reading:
    time: datetime | None
    """None when the stored time is not a valid date (see `core.store.moment_of`)."""
    value: float | str | bool | None


@dataclass(frozen=True)
class StreamAbout:
    stream_id: int
    device_id: str
    device_name: str
    place: str
    place_name: str
    """What the manifest calls the place ("Flat 4"); `place` is its id."""
    name: str
    label: str
    """`model/name`: what the consent service calls the stream."""
    description: str
    unit: str | None
    category: str | None
    category_words: str | None
    shared_with_household: bool
    uses: tuple[Use, ...]
    shares: tuple[Share, ...]
    retention: str
    levels: tuple[str, ...]
    automation: dict[str, Any] | None
    latest: tuple[Reading, ...]
    held: bool = False
    """The person holds the key to these readings: the hub cannot show them."""
    objected: bool = False
    """The person objects to the automated decisions or profiling this stream is used for."""
    automated_by: tuple[tuple[str, str], ...] = ()
    """(name, what it does) of each application that reads the stream and declares automated
    decisions or profiling."""
    keep_for: str | None = None
    """The retention as the manifest gives it (ISO 8601), so a page can word it in its language."""

    @property
    def objectable(self) -> bool:
        """Whether an objection would change anything: the stream or a reader is automated."""
        automation = self.automation or {}
        return bool(
            automation.get("automated_decisions")
            or automation.get("profiling")
            or self.automated_by
        )


@dataclass(frozen=True)
class CutOff:
    """One of the person's devices is quarantined: since when and why, for a page to word."""

    device_name: str
    at: datetime
    reason: str


def cut_off(connection: Connection, streams: Sequence[StreamAbout]) -> list[CutOff]:
    """Each of the person's devices that is quarantined."""
    held = monitoring.current_quarantines(connection)
    names = {s.device_id: s.device_name for s in streams if s.device_id in held}
    return [
        CutOff(name, _utc(held[device].at), held[device].reason)
        for device, name in sorted(names.items())
    ]


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def plain_period(duration: str | None) -> str:
    """`P13M` as "13 months", the same words the notices use."""
    return duration_words(duration) if duration else "not stated"


NOT_A_DATE = "not a valid date"
"""How a page shows a stored time that is no date (see `core.store.moment_of`)."""


def shown_moment(seconds: float) -> str:
    """A stored time as `2026-09-21 14:13:20 UTC`, or "not a valid date"."""
    moment = moment_of(seconds)
    return NOT_A_DATE if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def level_words(level: str) -> str:
    return _LEVEL_WORDS.get(level, level)


def _term_words(vocabulary: Any, name: str | None) -> tuple[str, str]:
    if name is None or name not in vocabulary:
        return (name or "", "")
    term = vocabulary.get(name)
    return (term.label, term.explanation)


def streams_about(
    connection: Connection,
    keyring: Keyring,
    subject_id: str,
    language: str = "en",
    rows_from: Connection | None = None,
) -> list[StreamAbout]:
    """Every personal stream about the person, on every current device, with their readings;
    the operator's texts (descriptions, how data is used, terms, place names) in `language`
    where the manifest gives them in it.

    The readings come from `rows_from` (a fresh-enough replica) when given; what the person
    chose, and which keys were destroyed, always from `connection`."""
    facts = inputs.read_inputs(connection)
    all_choices = inputs.current_choices(connection, [subject_id])
    shares_given = share_choices(connection, subject_id)
    specs = {
        row.id: (row.spec, row.model_id)
        for row in connection.execute(
            select(t.streams.c.id, t.streams.c.spec, t.streams.c.model_id)
        )
    }
    names = dict(connection.execute(select(t.recipients.c.id, t.recipients.c.name)).all())
    device_names = dict(connection.execute(select(t.devices.c.id, t.devices.c.name)).all())
    places = {row.id: row for row in connection.execute(select(t.places))}
    place_names, local_device_names = _names_in(connection, language)
    objecting = objections.current(connection)
    automated = _automated_readers(connection, language)
    found: list[StreamAbout] = []
    for device in facts.devices:
        for rule in facts.rules.get(device.model_id, ()):
            if not reads.for_person(rule, device, subject_id).allowed:
                continue
            people = people_concerned(rule, device)
            spec, model_id = specs[rule.stream_id]
            holder = key_holder(rule, device)
            uses = tuple(
                _use(
                    u,
                    all_choices.get((subject_id, rule.stream_id, u["purpose"])),
                    _together(
                        places.get(device.place_id),
                        place_names.get(device.place_id),
                        rule,
                        device,
                        u,
                        facts.choices,
                        language,
                    ),
                    language,
                )
                for u in spec["purposes"]
            )
            shares = tuple(
                Share(
                    recipient=s["recipient"],
                    name=names.get(s["recipient"], s["recipient"]),
                    purpose=s["purpose"],
                    terms=in_language(s.get("terms"), language),
                    given=shares_given.get((rule.stream_id, s["purpose"], s["recipient"]), False),
                )
                for s in spec.get("recipients", [])
            )
            category = spec.get("data_category")
            found.append(
                StreamAbout(
                    stream_id=rule.stream_id,
                    device_id=device.device_id,
                    device_name=local_device_names.get(device.device_id)
                    or device_names.get(device.device_id)
                    or device.device_id,
                    place=device.place_id,
                    place_name=place_names.get(device.place_id)
                    or getattr(places.get(device.place_id), "name", None)
                    or device.place_id,
                    name=rule.name,
                    label=f"{model_id}/{rule.name}",
                    description=in_language(spec.get("description"), language),
                    unit=spec.get("unit"),
                    category=category,
                    category_words=_term_words(PERSONAL_DATA_CATEGORIES, category)[1] or None,
                    shared_with_household=len(people) > 1,
                    uses=uses,
                    shares=shares,
                    retention=plain_period(spec.get("retention")),
                    keep_for=spec.get("retention"),
                    levels=rule.levels,
                    automation=_automation_in(spec.get("automation"), language),
                    latest=tuple(
                        latest_readings(
                            connection,
                            keyring,
                            device.device_id,
                            rule.stream_id,
                            rows_from=rows_from,
                        )
                    ),
                    held=holder is not None and keyring.holds_own_key(holder),
                    objected=(subject_id, rule.stream_id) in objecting,
                    automated_by=tuple(
                        automated.get(f"{model_id}/{rule.name}", ()) + automated.get(rule.name, ())
                    ),
                )
            )
    return found


def _names_in(connection: Connection, language: str) -> tuple[dict[str, str], dict[str, str]]:
    """Each place's and device's name in `language`, from the applied manifest (the places and
    devices tables keep the default language's only)."""
    manifest = applied_manifest(connection)
    if manifest is None:
        return {}, {}
    places = {place.id: in_language(place.name, language) for place in manifest.places}
    devices = {d.id: in_language(d.name, language) for d in manifest.devices if d.name}
    return places, devices


def _automation_in(automation: dict[str, Any] | None, language: str) -> dict[str, Any] | None:
    if not automation:
        return automation
    return {**automation, "description": in_language(automation.get("description"), language)}


def _automated_readers(
    connection: Connection, language: str = "en"
) -> dict[str, tuple[tuple[str, str], ...]]:
    """Stream name or `model/name` → the applications reading it that declare automation."""
    found: dict[str, tuple[tuple[str, str], ...]] = {}
    rows = connection.execute(
        select(t.applications.c.name, t.applications.c.spec).where(
            t.applications.c.retired_at.is_(None)
        )
    )
    for stored_name, spec in rows:
        name = in_language((spec or {}).get("name"), language) or stored_name
        automation = (spec or {}).get("automation") or {}
        if not (automation.get("automated_decisions") or automation.get("profiling")):
            continue
        for stream in spec.get("streams", []):
            does = in_language(automation.get("description"), language)
            found[stream] = (*found.get(stream, ()), (name, does))
    return found


def _together(
    place: Any,
    local_name: str | None,
    rule: StreamRule,
    device: DeviceFacts,
    use: dict[str, Any],
    choices: Mapping[ConsentKey, Choice],
    language: str,
) -> str | None:
    """The words saying how many of a shared place's occupants agreed to a use, if it needs
    all of them, in `language`."""
    if not is_consent(use.get("legal_basis")) or len(people_concerned(rule, device)) < 2:
        return None
    counted = agreement(rule, device, use["purpose"], choices)
    name, kind = (place.name, place.kind) if place is not None else (device.place_id, "other")
    return together_words(
        Waiting(local_name or name, kind, counted.agreed, counted.concerned), language
    )


def together_words(waiting: Waiting, language: str) -> str:
    """`rights.consent.waiting_words` in the portal's language: "Collection waits until every
    resident of Flat 4 agrees: 1 of 2 residents has agreed." """
    catalogue = translations(language)
    _, ngettext = catalogue.gettext, catalogue.ngettext
    resident = waiting.kind in {"home", "care-facility"}
    facts = {"place": waiting.place, "agreed": waiting.agreed, "concerned": waiting.concerned}
    if waiting.complete:
        if resident:
            return (
                _(
                    "Every resident of %(place)s has agreed (%(agreed)d of %(concerned)d residents), so "
                    "collection for this can go ahead."
                )
                % facts
            )
        return (
            _(
                "Every occupant of %(place)s has agreed (%(agreed)d of %(concerned)d occupants), so "
                "collection for this can go ahead."
            )
            % facts
        )
    if resident:
        return (
            ngettext(
                "Collection waits until every resident of %(place)s agrees: %(agreed)d of "
                "%(concerned)d residents has agreed.",
                "Collection waits until every resident of %(place)s agrees: %(agreed)d of "
                "%(concerned)d residents have agreed.",
                waiting.agreed,
            )
            % facts
        )
    return (
        ngettext(
            "Collection waits until every occupant of %(place)s agrees: %(agreed)d of "
            "%(concerned)d occupants has agreed.",
            "Collection waits until every occupant of %(place)s agrees: %(agreed)d of "
            "%(concerned)d occupants have agreed.",
            waiting.agreed,
        )
        % facts
    )


def _use(
    use: dict[str, Any], choice: Choice | None, together: str | None = None, language: str = "en"
) -> Use:
    label, why = _term_words(PURPOSES, use["purpose"])
    basis = use.get("legal_basis")
    needs = is_consent(basis)
    given = choice is not None and choice.given and choice.level != "off"
    return Use(
        purpose=use["purpose"],
        label=label or use["purpose"],
        why=why,
        legal_basis=basis,
        basis_words=_term_words(LEGAL_BASES, basis)[1],
        how=in_language(use.get("how"), language),
        needs_consent=needs,
        given=given if needs else True,
        level=(choice.level if given and choice is not None else "off") if needs else "exact",
        together=together,
    )


def latest_readings(
    connection: Connection,
    keyring: Keyring,
    device_id: str,
    stream_id: int,
    limit: int = LATEST,
    rows_from: Connection | None = None,
) -> list[Reading]:
    """The newest readings of one stream, oldest first, decrypted for the person they are about;
    readings whose key was destroyed are left out (nobody can read them any more). The rows
    come from `rows_from` when given (a replica), the keys destroyed from `connection`."""
    selection = Selection(
        device_id=device_id, stream_ids=(stream_id,), order=Order.newest, limit=limit
    )
    opener = ReadingOpener(keyring, connection)
    newest = list(opener.readable(select_readings(rows_from or connection, selection)))
    return [
        Reading(
            moment_of(row.time),
            value.hex() if isinstance(value, bytes) else value,
        )
        for row, value in reversed(newest)
    ]


def inferences(streams: Sequence[StreamAbout]) -> list[str]:
    """Plain statements of what combining the person's streams could reveal."""
    names = {s.name for s in streams}
    categories = {s.category for s in streams}
    said: list[str] = []
    if "Behavioural" in categories and len([s for s in streams if s.category == "Behavioural"]) > 1:
        said.append(
            "Together, the sensors that notice movement and doors could show your daily "
            "routine: when you get up, go out and come home."
        )
    if "PhysicalHealth" in categories and len(names) > 1:
        said.append(
            "Health readings combined with readings from your home could hint at how well "
            "you sleep or how active you are at home."
        )
    if "Household" in categories:
        said.append("Electricity use over the day can show when someone is at home and awake.")
    return said


def describe_choice(
    connection: Connection, language: str = "en"
) -> Callable[[str, str, str | None], str]:
    """Plain words for a (stream label, purpose, recipient) as the history shows it, the
    operator's description in `language`."""
    streams = {
        f"{row.model_id}/{row.name}": in_language(row.spec.get("description"), language) or row.name
        for row in connection.execute(
            select(t.streams.c.model_id, t.streams.c.name, t.streams.c.spec)
        )
    }
    names = dict(connection.execute(select(t.recipients.c.id, t.recipients.c.name)).all())

    _ = translations(language).gettext
    dpv = notice_translations(language).gettext

    def words(stream: str, purpose: str, recipient: str | None) -> str:
        text = f"{streams.get(stream, stream)}, {dpv(purpose_words(purpose) or purpose)}"
        if recipient:
            text += ", " + _("shared with %(name)s") % {"name": names.get(recipient, recipient)}
        return text

    return words


@dataclass(frozen=True)
class Responsible:
    """Whom the person can address, from the manifest's operator section."""

    name: str
    contact: dict[str, Any]
    data_protection: dict[str, Any] | None
    accountable: dict[str, Any] | None


def responsible(connection: Connection) -> Responsible | None:
    row = connection.execute(select(t.operator.c.legal_name, t.operator.c.spec)).first()
    if row is None:
        return None
    spec = row.spec if isinstance(row.spec, dict) else {}
    return Responsible(
        name=row.legal_name,
        contact=spec.get("contact") or {},
        data_protection=spec.get("data_protection_contact"),
        accountable=spec.get("accountable_person"),
    )
