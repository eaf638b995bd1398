"""The controls catalogue: what each standard and principle asks, as data shipped in the package.

The catalogue (`controls.yaml`) is read with line numbers and validated with pydantic, so a
mistake in it is reported as `controls.yaml:LINE: field: what is wrong`, like the manifest's.
Each control says how its evidence is collected: an `automatic` check over the live store
(named by `check`), an operator's `statement` backed by a document, the auditor's `probe`, or
`not-assessed` with the reason no evidence can be had.
"""

from __future__ import annotations

from enum import StrEnum
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from goodthings.core.errors import ManifestError, Problem
from goodthings.core.manifest import Located, load_yaml

CATALOGUE_FILE = "controls.yaml"


class Standard(StrEnum):
    """The families of controls a caller can ask for."""

    principles = "principles"
    """The IoT Good Practice principles of the IGF Dynamic Coalition on the Internet of Things
    (its Good Practice paper and reports)."""
    etsi = "etsi"
    """ETSI EN 303 645, provisions 5.1 to 5.13 and 6."""
    psti = "psti"
    """UK PSTI Regulations 2023, Schedule 1."""
    nist = "nist"
    """NIST IR 8259A, the core device cybersecurity capabilities, and NIST IR 8425, the
    consumer IoT profile built on them (the US Cyber Trust Mark's basis)."""
    cra = "cra"
    """The EU Cyber Resilience Act, Regulation (EU) 2024/2847, Annex I parts I and II."""
    en18031 = "en18031"
    """EN 18031-1 and -2:2024, the harmonised standards for radio equipment under the RED."""
    gdpr = "gdpr"
    """The GDPR articles the hub can show evidence for (5, 7, 12 to 22, 25, 30, 32, 35)."""


class Collection(StrEnum):
    """How the evidence for a control is gathered."""

    automatic = "automatic"
    """A check reads the live store and decides; no one's word is needed."""
    statement = "statement"
    """The operator states it, pointing at a document an assessor can read."""
    probe = "probe"
    """An auditor tests devices on the network (reported as not assessed until a probe ran)."""
    not_assessed = "not-assessed"
    """Neither the hub nor a document the operator holds can show it (for example what a
    device's own firmware does inside it): always reported as not assessed, with the reason
    the control gives in `not_assessed_because`, so the gap is named instead of hidden."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Control(_Strict):
    id: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    standard: Standard
    reference: str = Field(min_length=1)
    """Where the text this control summarises is published (clause, article, section)."""
    title: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    """In our own words: what is asked."""
    evidence: str = Field(min_length=1)
    """What shows the control is met."""
    collection: Collection
    check: str | None = None
    """The automatic check's id; only, and always, for automatic controls."""
    not_applicable_when: str = Field(min_length=1)
    not_assessed_because: str | None = None
    """Only, and always, for not-assessed controls: why no evidence can be collected."""

    @model_validator(mode="after")
    def _check_matches_collection(self) -> Control:
        if self.collection is Collection.automatic and not self.check:
            raise ValueError("an automatic control names its check (check: <id>)")
        if self.collection is not Collection.automatic and self.check:
            raise ValueError(f"only automatic controls name a check, this one is {self.collection}")
        unassessed = self.collection is Collection.not_assessed
        if unassessed and not self.not_assessed_because:
            raise ValueError("a not-assessed control says why (not_assessed_because: <reason>)")
        if not unassessed and self.not_assessed_because:
            raise ValueError("only not-assessed controls give not_assessed_because")
        return self


class Catalogue(_Strict):
    version: int = Field(ge=1)
    controls: tuple[Control, ...]
    kind: Literal["goodthings-controls"] = "goodthings-controls"

    @model_validator(mode="after")
    def _ids_unique(self) -> Catalogue:
        seen: set[str] = set()
        for control in self.controls:
            if control.id in seen:
                raise ValueError(f"control id {control.id} appears twice")
            seen.add(control.id)
        return self

    def of(self, standard: Standard | None) -> tuple[Control, ...]:
        """The controls of one standard, or all of them."""
        return tuple(c for c in self.controls if standard is None or c.standard is standard)


class CatalogueError(ManifestError):
    """The controls catalogue is invalid; `problems` lists every mistake, each with file:line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems)
        count = len(problems)
        header = f"the controls catalogue has {count} problem{'s' if count != 1 else ''}"
        self.args = ("\n".join([header, *(f"  {p}" for p in problems)]),)


def load_catalogue_text(text: str, file: str = CATALOGUE_FILE) -> Catalogue:
    """Parse and validate a catalogue; CatalogueError with file:line for every problem."""
    try:
        located = load_yaml(text, file)
    except ManifestError as exc:
        raise CatalogueError(exc.problems) from None
    try:
        return Catalogue.model_validate(located.data)
    except ValidationError as exc:
        raise CatalogueError([_problem(located, error) for error in exc.errors()]) from None


def load_catalogue() -> Catalogue:
    """The catalogue shipped with this version of goodthings."""
    text = resources.files(__package__).joinpath(CATALOGUE_FILE).read_text(encoding="utf-8")
    return load_catalogue_text(text)


def _problem(located: Located, error: object) -> Problem:
    assert isinstance(error, dict)
    path = [part for part in error["loc"] if isinstance(part, str | int)]
    return located.problem(path, str(error["msg"]))
