"""The deployment manifest's shape: what an operator declares in `goodthings.yaml`.

Field-level rules live here (types, term names, identifier syntax); rules that need the
whole file (references, consent reachability, purposes of recipients) live in `checks.py`.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from enum import StrEnum
from functools import cached_property
from pathlib import PurePosixPath, PureWindowsPath
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    WithJsonSchema,
    model_validator,
)

from goodthings.core.manifest.texts import Words, valid_language
from goodthings.core.manifest.vocabulary import (
    ART9_CONDITIONS,
    LEGAL_BASES,
    PERSONAL_DATA_CATEGORIES,
    PURPOSES,
    Vocabulary,
)

_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
# RFC 8428 §4.5.1: names start with a letter or digit; then letters, digits and - : . / _
_SENML_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-:./_]*")
_DURATION = TypeAdapter(timedelta)


def _identifier(value: str) -> str:
    if not _ID.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid id: use 1 to 63 lower-case letters, digits and hyphens, "
            "starting with a letter or digit (for example 'living-room')"
        )
    return value


def _senml_name(value: str) -> str:
    if not _SENML_NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid SenML name: start with a letter or digit, then use letters, "
            "digits and - : . / _ only (RFC 8428 §4.5.1)"
        )
    return value


def _term_of(vocabulary: Vocabulary) -> AfterValidator:
    def check(value: str) -> str:
        if value in vocabulary:
            return value
        nearest = vocabulary.suggest(value)
        hint = f"; did you mean {' or '.join(nearest)}?" if nearest else ""
        raise ValueError(
            f"{value!r} is not a DPV {vocabulary.kind} term{hint} "
            "(`goodthings manifest schema` lists every valid term)"
        )

    return AfterValidator(check)


def _duration(value: str) -> str:
    if not value.startswith("P"):
        raise ValueError(f"{value!r} is not an ISO 8601 duration; write it like P30D, P6M or P1Y")
    try:
        period = _DURATION.validate_python(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not an ISO 8601 duration; write it like P30D, P6M or P1Y"
        ) from None
    if period <= timedelta(0):
        raise ValueError("a duration must be longer than zero")
    return value


Identifier = Annotated[str, AfterValidator(_identifier)]
SenMLName = Annotated[str, AfterValidator(_senml_name)]


def _term_schema(vocabulary: Vocabulary) -> WithJsonSchema:
    """List the terms in the JSON Schema, so editors can complete them."""
    return WithJsonSchema(
        {
            "type": "string",
            "enum": vocabulary.names(),
            "description": f"A DPV {vocabulary.kind} term ({vocabulary.namespace})",
        }
    )


PurposeTerm = Annotated[str, _term_of(PURPOSES), _term_schema(PURPOSES)]
LegalBasisTerm = Annotated[str, _term_of(LEGAL_BASES), _term_schema(LEGAL_BASES)]
Art9ConditionTerm = Annotated[str, _term_of(ART9_CONDITIONS), _term_schema(ART9_CONDITIONS)]
DataCategoryTerm = Annotated[
    str, _term_of(PERSONAL_DATA_CATEGORIES), _term_schema(PERSONAL_DATA_CATEGORIES)
]
Duration = Annotated[str, AfterValidator(_duration)]
Text = Annotated[str, Field(min_length=1)]
Language = Annotated[str, AfterValidator(valid_language)]


def _inside_deployment(value: str) -> str:
    """A file the deployment carries: relative, and never outside its directory."""
    if PurePosixPath(value).is_absolute() or PureWindowsPath(value).drive:
        raise ValueError(
            f"{value!r} is an absolute path; name a file inside the deployment directory, "
            "relative to the manifest (like sboms/thermia-t5.cdx.json)"
        )
    if ".." in PurePosixPath(value.replace("\\", "/")).parts:
        raise ValueError(
            f"{value!r} leads out of the deployment directory; keep the file inside it"
        )
    return value


DeploymentFile = Annotated[str, Field(min_length=1), AfterValidator(_inside_deployment)]


def period_of(duration: str) -> timedelta:
    """The length of an ISO 8601 duration already accepted by the schema."""
    return _DURATION.validate_python(duration)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class Contact(_Model):
    """How to reach a person or an office; at least one way is needed."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    url: str | None = None

    @model_validator(mode="after")
    def _reachable(self) -> Contact:
        if not (self.email or self.phone or self.address or self.url):
            raise ValueError("give at least one way to reach them: email, phone, address or url")
        return self


class Person(Contact):
    """A named person with a role, such as the accountable person."""

    name: Text
    role: Text


class VulnerabilityDisclosure(_Model):
    """Where security researchers report problems (RFC 9116 security.txt is built from this)."""

    contact: Text
    """A mailto:, https: or tel: address for reports."""
    policy_url: Text
    """The published disclosure policy (https:)."""


class Operator(_Model):
    """The data controller: the organisation responsible for the deployment."""

    legal_name: Text
    contact: Contact
    data_protection_contact: Contact
    accountable_person: Person
    vulnerability_disclosure: VulnerabilityDisclosure
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    """ISO 3166-1 alpha-2 code (GB, DE, …) of the country whose law governs the processing and
    where the hub keeps the data; consent receipts name it as jurisdiction and storage location."""


class PlaceKind(StrEnum):
    home = "home"
    care_facility = "care-facility"
    office = "office"
    public_space = "public-space"
    street = "street"
    school = "school"
    shop = "shop"
    factory = "factory"
    farm = "farm"
    vehicle = "vehicle"
    other = "other"


class Place(_Model):
    id: Identifier
    name: Words
    kind: PlaceKind
    address: str | None = None
    area: Words | None = None
    """A description of the area covered when there is no postal address."""
    occupants: list[Identifier] = []
    """Subjects who live or work here; streams `about: occupant` are about them."""

    @model_validator(mode="after")
    def _located(self) -> Place:
        if not (self.address or self.area):
            raise ValueError("say where the place is: give an address or an area")
        return self


class Representative(_Model):
    """Someone who decides for a person who cannot (a guardian, an attorney for welfare).

    Their consent and withdrawals count as the person's own, and the records say who gave them.
    """

    name: Text
    relationship: Words
    """Why they may decide, in words: "daughter, lasting power of attorney for welfare"."""
    contact: str | None = None
    places: list[Identifier] = []
    """Where they decide for the person: streams of devices in these places (default: all)."""
    streams: list[str] = []
    """Which streams, by name (default: every stream about the person)."""


class Subject(_Model):
    """A person the data is about, known by the operator (resident, patient, employee…)."""

    id: Identifier
    name: Text
    role: Text
    contact: str | None = None
    """How the operator reaches them: email, phone or postal address."""
    language: Language = "en"
    represented_by: Representative | None = None
    """Who consents for them when they cannot themselves."""


class Recipient(_Model):
    """An organisation that receives data from the hub."""

    id: Identifier
    name: Text
    kind: Literal["processor", "third-party", "public-authority", "researcher"]
    contact: Contact
    country: str | None = None
    webhook_url: Annotated[str, Field(pattern=r"^https?://\S+$")] | None = None
    """Where the hub delivers the readings this recipient may have (HTTP POST, signed)."""


class ValueType(StrEnum):
    number = "number"
    string = "string"
    boolean = "boolean"
    data = "data"


class About(StrEnum):
    """Whom a personal stream is about; decides who can consent to it."""

    owner = "owner"
    occupant = "occupant"
    wearer = "wearer"
    passers_by = "passers-by"


class Level(StrEnum):
    """How much detail is kept: minimisation instead of only on/off, from most to least.

    What each level does to each kind of value is `goodthings.policy.minimise`'s job.
    """

    exact = "exact"
    """Every reading as the device sent it."""
    coarse = "coarse"
    """Every reading, numbers rounded to a multiple of the stream's `coarse_step`."""
    aggregate = "aggregate"
    """One summary per `aggregate_window`, stamped at the window's start."""
    off = "off"
    """Nothing is kept."""


class PurposeUse(_Model):
    purpose: PurposeTerm
    legal_basis: LegalBasisTerm | None = None
    special_category_condition: Art9ConditionTerm | None = None
    """GDPR Art. 9(2)'s condition (A9-2-a … A9-2-j) for a special category, such as Health."""
    how: Words
    """In plain words, how the data is used for this purpose."""


class Share(_Model):
    recipient: Identifier
    purpose: PurposeTerm
    terms: Words
    """What the recipient may and may not do with the data."""


class Automation(_Model):
    """Declares automated decisions and profiling, which people may object to."""

    automated_decisions: bool = False
    profiling: bool = False
    description: Words | None = None


class Stream(_Model):
    name: SenMLName
    """The SenML record name the device sends (after its base name)."""
    description: Words
    unit: str | None = None
    value_type: ValueType = ValueType.number
    personal: bool
    about: About | None = None
    data_category: DataCategoryTerm | None = None
    purposes: list[PurposeUse] = Field(min_length=1)
    retention: Duration | None = None
    minimisation: list[Level] = [Level.exact, Level.off]
    coarse_step: float | None = Field(default=None, gt=0)
    """For `coarse`: values are rounded to a multiple of this step."""
    aggregate_window: Duration | None = None
    """For `aggregate`: one summary per window instead of each reading."""
    recipients: list[Share] = []
    automation: Automation = Automation()


class UpdateMechanism(StrEnum):
    automatic = "automatic"
    operator_initiated = "operator-initiated"
    manual = "manual"
    none = "none"


class Response(StrEnum):
    """What the hub does when a detector finds a device of the model misbehaving."""

    alert = "alert"
    """Tell the operator; the device goes on sending."""
    quarantine = "quarantine"
    """Cut the device off at once (broker and HTTP) and tell the operator, who may release it."""


class Detection(StrEnum):
    """The detectors a model's profile can set a response for (see docs/monitoring.md)."""

    flood = "flood"
    off_profile = "off-profile"
    credential_stuffing = "credential-stuffing"
    silent = "silent"
    replay = "replay"
    firmware_downgrade = "firmware-downgrade"
    past_support = "past-support"


class Monitoring(_Model):
    """How a model's devices are expected to behave; the hub's monitor compares each device
    with this and with its own learned baseline."""

    max_rate: int | None = Field(default=None, gt=0)
    """At most this many messages per minute from one device."""
    max_pack: int | None = Field(default=None, gt=0)
    """At most this many records in one message."""
    allowed_streams: list[SenMLName] | None = None
    """The streams a device may send (default: every stream the model declares)."""
    interval: Duration | None = None
    """How often a device reports; silence for several intervals is a detection."""
    max_clock_offset: Duration = "PT1H"
    """A pack whose newest reading is older than this when it arrives is a replay or a clock
    gone wrong."""
    warm_up: Duration = "P1D"
    """How long a device's behaviour is learned before its baseline is used."""
    actions: dict[Detection, Response] = {}
    """What to do on each detection; a detection not named here raises an alert."""


class DeviceModel(_Model):
    id: Identifier
    manufacturer: Text
    model: Text
    firmware_versions: list[Text] = Field(min_length=1)
    support_until: date
    """The end of the manufacturer's security-update support period."""
    update_mechanism: UpdateMechanism
    mud_url: str | None = None
    """Manufacturer Usage Description (RFC 8520) file, if the maker publishes one."""
    sbom: DeploymentFile | None = None
    """The model's software bill of materials (CycloneDX or SPDX JSON), a file relative to the
    manifest: advisories are then matched against its components too."""
    streams: list[Stream] = Field(min_length=1)
    monitoring: Monitoring | None = None
    """The behaviour expected of the model's devices (abuse monitoring)."""


class Device(_Model):
    id: Identifier
    name: Words | None = None
    model: Identifier
    place: Identifier
    firmware: Text
    subject: Identifier | None = None
    """Whose device it is: the owner or the wearer."""
    senml_name: SenMLName | None = None
    """The SenML base name the device sends, in RFC 8428's recommended form (urn:dev:ow:…:,
    urn:dev:mac:…): records named with it, then their stream, are this device's."""


class Application(_Model):
    id: Identifier
    name: Words
    operated_by: Text
    contact: Contact
    purposes: list[PurposeTerm] = Field(min_length=1)
    streams: list[Text] = Field(min_length=1)
    """Stream names, or `model-id/stream-name` where a name is used by several models."""
    automation: Automation = Automation()


def _clock_skew(value: str) -> str:
    if period_of(value) > _MAX_CLOCK_SKEW:
        raise ValueError(
            f"{value!r} is more than a day; a device clock that far ahead is wrong, not skewed: "
            "allow at most P1D (the default, PT5M, suits devices that keep time with NTP)"
        )
    return value


_MAX_CLOCK_SKEW = timedelta(days=1)
DEFAULT_CLOCK_SKEW = "PT5M"
"""How far ahead of the hub's clock a reading may be dated when the manifest does not say
(the store's default for a database migrated before the setting existed is the same 300 s)."""
ClockSkew = Annotated[Duration, AfterValidator(_clock_skew)]


class DeploymentInfo(_Model):
    id: Identifier
    name: Words
    description: Words
    languages: Annotated[list[Language], Field(min_length=1)] = ["en"]
    """The languages of the operator's texts, the default first; each text may be given
    in these (`{en: …, fr: …}`)."""
    clock_skew: ClockSkew = DEFAULT_CLOCK_SKEW
    """How far ahead of the hub's clock a reading may be dated; later ones are refused."""
    metrics_retention: Duration = "P30D"
    """How long the monitor keeps each device's per-minute behaviour."""


class Advisories(_Model):
    """How the operator acts on security advisories that affect the fleet."""

    patch_within_days: Annotated[int, Field(ge=1, le=365)] = 30
    """How many days a critical or high advisory affecting a current device may stay unpatched
    after it was imported; the assessment's `advisories.patched` check holds the hub to it."""


class Security(_Model):
    """The operator's own security commitments, checked against the live fleet."""

    advisories: Advisories = Advisories()


class Manifest(_Model):
    """A whole deployment: the single source of truth kept in version control."""

    version: Literal[1]
    deployment: DeploymentInfo
    operator: Operator
    places: list[Place] = Field(min_length=1)
    subjects: list[Subject] = []
    recipients: list[Recipient] = []
    device_models: list[DeviceModel] = Field(min_length=1)
    devices: list[Device] = []
    applications: list[Application] = []
    security: Security = Security()

    @cached_property
    def models_by_id(self) -> dict[str, DeviceModel]:
        return {model.id: model for model in self.device_models}
