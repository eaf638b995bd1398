"""Rules that need the whole manifest: references, uniqueness, who can consent, who receives what.

Each check yields `(path, message)` pairs; the loader turns the path into a file line.
Messages say what is wrong and what would be right, in words an operator can act on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from typing import Any, Protocol

from pydantic import BaseModel

from goodthings.core.manifest.schema import About, Level, Manifest, Stream, ValueType
from goodthings.core.manifest.texts import LocalText
from goodthings.core.manifest.vocabulary import EXPLICIT_CONSENT, is_consent, is_special

Finding = tuple[tuple[str | int, ...], str]


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


def check(manifest: Manifest) -> list[Finding]:
    """Every cross-reference mistake in the manifest, in file order of the checks."""
    return list(chain.from_iterable(rule(manifest) for rule in _RULES))


def _unique_ids(manifest: Manifest) -> Iterator[Finding]:
    sections: dict[str, Sequence[_Identified]] = {
        "places": manifest.places,
        "subjects": manifest.subjects,
        "recipients": manifest.recipients,
        "device_models": manifest.device_models,
        "devices": manifest.devices,
        "applications": manifest.applications,
    }
    for section, items in sections.items():
        yield from _duplicates(
            ((section, index, "id"), item.id) for index, item in enumerate(items)
        )
    yield from _duplicates(
        (("devices", index, "senml_name"), device.senml_name)
        for index, device in enumerate(manifest.devices)
        if device.senml_name is not None
    )
    for m, model in enumerate(manifest.device_models):
        yield from _duplicates(
            (("device_models", m, "streams", s, "name"), stream.name)
            for s, stream in enumerate(model.streams)
        )


def _duplicates(keyed: Iterable[tuple[tuple[str | int, ...], str]]) -> Iterator[Finding]:
    first_seen: dict[str, tuple[str | int, ...]] = {}
    for path, key in keyed:
        if key in first_seen:
            yield (
                path,
                f"{key!r} is used twice; each must be unique (first used at {_at(first_seen[key])})",
            )
        else:
            first_seen[key] = path


def _at(path: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _references(manifest: Manifest) -> Iterator[Finding]:
    place_ids = {place.id for place in manifest.places}
    subject_ids = {subject.id for subject in manifest.subjects}
    recipient_ids = {recipient.id for recipient in manifest.recipients}
    for p, place in enumerate(manifest.places):
        for o, occupant in enumerate(place.occupants):
            if occupant not in subject_ids:
                yield ("places", p, "occupants", o), _unknown("subject", occupant, subject_ids)
    for d, device in enumerate(manifest.devices):
        if device.model not in manifest.models_by_id:
            yield (
                ("devices", d, "model"),
                _unknown("device model", device.model, manifest.models_by_id),
            )
        if device.place not in place_ids:
            yield ("devices", d, "place"), _unknown("place", device.place, place_ids)
        if device.subject is not None and device.subject not in subject_ids:
            yield ("devices", d, "subject"), _unknown("subject", device.subject, subject_ids)
    for m, model in enumerate(manifest.device_models):
        for s, stream in enumerate(model.streams):
            for r, share in enumerate(stream.recipients):
                if share.recipient not in recipient_ids:
                    path = ("device_models", m, "streams", s, "recipients", r, "recipient")
                    yield path, _unknown("recipient", share.recipient, recipient_ids)


def _representatives(manifest: Manifest) -> Iterator[Finding]:
    place_ids = {place.id for place in manifest.places}
    names = {stream.name for model in manifest.device_models for stream in model.streams}
    for n, subject in enumerate(manifest.subjects):
        representative = subject.represented_by
        if representative is None:
            continue
        for p, place in enumerate(representative.places):
            if place not in place_ids:
                path = ("subjects", n, "represented_by", "places", p)
                yield path, _unknown("place", place, place_ids)
        for s, stream in enumerate(representative.streams):
            if stream not in names:
                path = ("subjects", n, "represented_by", "streams", s)
                yield path, _unknown("stream", stream, names)


def _unknown(kind: str, value: str, known: Iterable[str]) -> str:
    names = sorted(known)
    listed = ", ".join(names) if names else f"none are declared yet; add the {kind} first"
    return f"there is no {kind} {value!r}; known {kind}s: {listed}"


def _firmware(manifest: Manifest) -> Iterator[Finding]:
    for d, device in enumerate(manifest.devices):
        model = manifest.models_by_id.get(device.model)
        if model is not None and device.firmware not in model.firmware_versions:
            yield (
                ("devices", d, "firmware"),
                (
                    f"firmware {device.firmware!r} is not one of model {model.id!r}'s versions "
                    f"({', '.join(model.firmware_versions)}); add it to the model's firmware_versions"
                ),
            )


def _each_stream(manifest: Manifest) -> Iterator[tuple[tuple[str | int, ...], Stream]]:
    for m, model in enumerate(manifest.device_models):
        for s, stream in enumerate(model.streams):
            yield ("device_models", m, "streams", s), stream


def _personal_streams(manifest: Manifest) -> Iterator[Finding]:
    for path, stream in _each_stream(manifest):
        if stream.personal:
            if stream.about is None:
                yield (
                    (*path, "about"),
                    (
                        "a personal stream must say whom it is about: owner, occupant, wearer or passers-by"
                    ),
                )
            if stream.data_category is None:
                yield (
                    (*path, "data_category"),
                    ("a personal stream needs a DPV personal data category, such as Location"),
                )
            if stream.retention is None:
                yield (
                    (*path, "retention"),
                    ("a personal stream needs a retention period, such as P30D (30 days)"),
                )
            for u, use in enumerate(stream.purposes):
                if use.legal_basis is None:
                    yield (
                        (*path, "purposes", u, "legal_basis"),
                        (
                            f"purpose {use.purpose} of a personal stream needs a legal basis, "
                            "such as Consent, Contract or LegitimateInterest"
                        ),
                    )
        elif stream.about is not None or stream.data_category is not None:
            field = "about" if stream.about is not None else "data_category"
            yield (
                (*path, field),
                (
                    "only personal streams are about someone; set `personal: true` or remove this field"
                ),
            )


def _special_categories(manifest: Manifest) -> Iterator[Finding]:
    """GDPR Art. 9: a special category is processed only under one of Art. 9(2)'s conditions."""
    for path, stream in _each_stream(manifest):
        special = stream.personal and is_special(stream.data_category)
        for u, use in enumerate(stream.purposes):
            where = (*path, "purposes", u, "special_category_condition")
            condition = use.special_category_condition
            if special and condition is None:
                yield (
                    where,
                    (
                        f"{stream.data_category} is a special category of personal data "
                        f"(GDPR Art. 9), so purpose {use.purpose} needs a "
                        "special_category_condition, such as A9-2-a (explicit consent) or "
                        "A9-2-h (health or social care)"
                    ),
                )
            elif not special and condition is not None:
                yield (
                    where,
                    (
                        "only a special category of personal data (GDPR Art. 9), such as Health, "
                        "needs a special_category_condition; remove it"
                    ),
                )
            elif condition == _ART9_EXPLICIT_CONSENT and use.legal_basis != EXPLICIT_CONSENT:
                yield (
                    (*path, "purposes", u, "legal_basis"),
                    (
                        f"A9-2-a is explicit consent, so purpose {use.purpose} needs the legal "
                        f"basis {EXPLICIT_CONSENT}"
                    ),
                )


_ART9_EXPLICIT_CONSENT = "A9-2-a"


def _purposes(manifest: Manifest) -> Iterator[Finding]:
    for path, stream in _each_stream(manifest):
        yield from _duplicates(
            ((*path, "purposes", u, "purpose"), use.purpose)
            for u, use in enumerate(stream.purposes)
        )
        declared = {use.purpose for use in stream.purposes}
        for r, share in enumerate(stream.recipients):
            if share.purpose not in declared:
                yield (
                    (*path, "recipients", r, "purpose"),
                    (
                        f"{share.purpose} is not one of this stream's purposes "
                        f"({', '.join(sorted(declared))}); a recipient may only receive data for a "
                        "purpose the stream declares"
                    ),
                )


def _minimisation(manifest: Manifest) -> Iterator[Finding]:
    for path, stream in _each_stream(manifest):
        levels = stream.minimisation
        if len(set(levels)) != len(levels):
            yield (*path, "minimisation"), "each minimisation level may appear only once"
        if Level.coarse in levels:
            if stream.value_type is not ValueType.number:
                yield (*path, "minimisation"), "only number streams can be coarse; remove `coarse`"
            elif stream.coarse_step is None:
                yield (
                    (*path, "coarse_step"),
                    ("`coarse` needs a coarse_step: the step values are rounded to (e.g. 0.5)"),
                )
        if Level.aggregate in levels and stream.aggregate_window is None:
            yield (
                (*path, "aggregate_window"),
                ("`aggregate` needs an aggregate_window, such as PT1H (one summary per hour)"),
            )


def _consent_reachable(manifest: Manifest) -> Iterator[Finding]:
    """A purpose based on consent needs somebody who can be asked, and answered."""
    subjects = {subject.id: subject for subject in manifest.subjects}
    places = {place.id: place for place in manifest.places}
    for m, model in enumerate(manifest.device_models):
        devices = [device for device in manifest.devices if device.model == model.id]
        for s, stream in enumerate(model.streams):
            consent_uses = [
                u for u, use in enumerate(stream.purposes) if is_consent(use.legal_basis)
            ]
            if not stream.personal or not consent_uses:
                continue
            path = ("device_models", m, "streams", s, "purposes", consent_uses[0], "legal_basis")
            if stream.about is About.passers_by:
                yield (
                    path,
                    (
                        "passers-by cannot be asked for consent; use a legal basis such as "
                        "LegitimateInterest or PublicInterest, or do not collect this stream"
                    ),
                )
                continue
            for device in devices:
                if stream.about is About.occupant:
                    place = places.get(device.place)
                    if place is None:
                        continue  # the unknown place is reported where the device names it
                    people = [subjects.get(o) for o in place.occupants]
                    if not people:
                        yield (
                            path,
                            (
                                f"consent is needed from the occupants of place {device.place!r} "
                                f"(device {device.id!r}), but the place lists no occupants"
                            ),
                        )
                    people_ids = place.occupants
                else:
                    people = [subjects.get(device.subject)] if device.subject else []
                    people_ids = [device.subject] if device.subject else []
                    if not people:
                        yield (
                            path,
                            (
                                f"consent is needed from the {stream.about} of device {device.id!r}, "
                                "but the device names no subject; set the device's `subject`"
                            ),
                        )
                for person_id, person in zip(people_ids, people, strict=True):
                    if person is not None and not person.contact:
                        yield (
                            path,
                            (
                                f"consent is needed from subject {person_id!r}, who has no contact; "
                                "add a `contact` so they can be asked and can change their mind"
                            ),
                        )


def _automation(manifest: Manifest) -> Iterator[Finding]:
    declared = [(path, stream.automation) for path, stream in _each_stream(manifest)]
    declared += [
        (("applications", a), app.automation) for a, app in enumerate(manifest.applications)
    ]
    for path, automation in declared:
        if (automation.automated_decisions or automation.profiling) and not automation.description:
            yield (
                (*path, "automation", "description"),
                (
                    "automated decisions or profiling must be explained in plain words in `description`"
                ),
            )


def _applications(manifest: Manifest) -> Iterator[Finding]:
    by_name: dict[str, list[tuple[str, Stream]]] = {}
    for model in manifest.device_models:
        for stream in model.streams:
            by_name.setdefault(stream.name, []).append((model.id, stream))
    for a, app in enumerate(manifest.applications):
        for s, ref in enumerate(app.streams):
            path = ("applications", a, "streams", s)
            found = _resolve_stream(ref, by_name, manifest)
            if isinstance(found, str):
                yield path, found
                continue
            allowed = {use.purpose for use in found.purposes}
            if not allowed.intersection(app.purposes):
                yield (
                    path,
                    (
                        f"stream {ref!r} is not collected for any of this application's purposes "
                        f"({', '.join(app.purposes)}); its purposes are {', '.join(sorted(allowed))}"
                    ),
                )


def _resolve_stream(
    ref: str, by_name: dict[str, list[tuple[str, Stream]]], manifest: Manifest
) -> Stream | str:
    """The stream a reference names, or a message saying why it names none or several."""
    if "/" in ref and ref.split("/", 1)[0] in manifest.models_by_id:
        model_id, name = ref.split("/", 1)
        for stream in manifest.models_by_id[model_id].streams:
            if stream.name == name:
                return stream
        return f"device model {model_id!r} has no stream {name!r}"
    candidates = by_name.get(ref, [])
    if not candidates:
        known = ", ".join(sorted(by_name)) or "none"
        return f"there is no stream {ref!r}; known streams: {known}"
    if len(candidates) > 1:
        options = " or ".join(f"{model_id}/{ref}" for model_id, _ in candidates)
        return f"several device models have a stream {ref!r}; write {options}"
    return candidates[0][1]


def _disclosure(manifest: Manifest) -> Iterator[Finding]:
    disclosure = manifest.operator.vulnerability_disclosure
    if not disclosure.contact.startswith(("mailto:", "https://", "tel:")):
        yield (
            ("operator", "vulnerability_disclosure", "contact"),
            ("write the contact as a URI: mailto:security@example.org, https://… or tel:+44…"),
        )
    if not disclosure.policy_url.startswith("https://"):
        yield (
            ("operator", "vulnerability_disclosure", "policy_url"),
            ("the disclosure policy must be published at an https:// address"),
        )


def _texts(
    value: Any, path: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], LocalText]]:
    """Every text given by language, with its path, anywhere in the manifest."""
    if isinstance(value, LocalText):
        yield path, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _texts(getattr(value, name), (*path, name))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _texts(item, (*path, index))


def _languages(manifest: Manifest) -> Iterator[Finding]:
    """A text by language has the deployment's first language (the one a plain string is in,
    and the one shown when a reader's language is missing) and only the deployment's languages."""
    languages = manifest.deployment.languages
    default = languages[0]
    yield from _duplicates(
        (("deployment", "languages", index), code) for index, code in enumerate(languages)
    )
    for path, text in _texts(manifest, ()):
        if default not in text.translations:
            given = ", ".join(text.translations)
            yield (
                path,
                f"no text in {default!r}, the deployment's first language (deployment.languages); "
                f"this text is given in {given}: add {default}: ... to it",
            )
        for code in text.translations:
            if code not in languages:
                yield (
                    (*path, code),
                    f"{code!r} is not one of the deployment's languages ({', '.join(languages)}); "
                    f"add it to deployment.languages or remove this text",
                )


def _monitoring(manifest: Manifest) -> Iterator[Finding]:
    """A profile may only allow streams its model declares: anything else could never arrive."""
    for m, model in enumerate(manifest.device_models):
        if model.monitoring is None or model.monitoring.allowed_streams is None:
            continue
        declared = {stream.name for stream in model.streams}
        for s, name in enumerate(model.monitoring.allowed_streams):
            if name not in declared:
                yield (
                    ("device_models", m, "monitoring", "allowed_streams", s),
                    f"model {model.id!r} has no stream {name!r}; its streams are "
                    f"{', '.join(sorted(declared))}",
                )


_RULES: tuple[Callable[[Manifest], Iterator[Finding]], ...] = (
    _unique_ids,
    _references,
    _representatives,
    _firmware,
    _personal_streams,
    _special_categories,
    _purposes,
    _minimisation,
    _consent_reachable,
    _automation,
    _applications,
    _disclosure,
    _monitoring,
    _languages,
)
