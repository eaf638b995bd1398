"""One exception tree for everything goodthings refuses, so callers can catch by kind.

GoodthingsError                 anything goodthings refuses, with a message that says what to do
├── ManifestError               the deployment manifest is invalid (carries every Problem found)
├── DeploymentError             the deployment directory is missing, incomplete or unsafe
├── StoreError                  the database cannot be reached or migrated
├── SenMLError                  a SenML pack is malformed (carries the record index and field)
├── PolicyError                 the gate refused a request
└── LedgerError                 the ledger is broken or cannot be verified

Each area raises its own kinds too, defined beside the code that raises them and subclassing
GoodthingsError directly, so the CLI turns every one into a plain `error: …` line:
apply (ConfirmationNeeded), keys (UnreadableError, HeldKeyError), security (UnknownDevice,
PasswordRefused, BrokerAclError, BirthError, AdvisoryError, ReportError), portal (SignInError),
receipts (ReceiptError), export (ExportError), erasure (ErasureError), notices
(NoticeNotFound), access (AccessError), sharing (UnknownDelivery), bench (BenchError,
HubProcessError, MosquittoError).
"""

from __future__ import annotations

from dataclasses import dataclass


class GoodthingsError(Exception):
    """Base of every error goodthings raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One mistake in an input file, located well enough for an operator to fix it."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.message}"


class ManifestError(GoodthingsError):
    """The manifest is invalid; `problems` lists every mistake found, not only the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        count = len(problems)
        header = f"the manifest has {count} problem{'s' if count != 1 else ''}"
        super().__init__("\n".join([header, *(f"  {p}" for p in problems)]))


class DeploymentError(GoodthingsError):
    """The deployment directory cannot be used as it is."""


class StoreError(GoodthingsError):
    """The database cannot be reached, created or migrated."""


class SenMLError(GoodthingsError):
    """A SenML pack is malformed; `index` is the record (0-based) and `field` the member at fault."""

    def __init__(self, message: str, *, index: int | None = None, field: str | None = None) -> None:
        self.index = index
        self.field = field
        where = []
        if index is not None:
            where.append(f"record {index}")
        if field is not None:
            where.append(f"field {field!r}")
        prefix = f"{', '.join(where)}: " if where else ""
        super().__init__(f"{prefix}{message}")


class PolicyError(GoodthingsError):
    """The gate refused a request."""


class LedgerError(GoodthingsError):
    """The ledger cannot be appended to or verified."""
