"""Application access: OAuth2 client credentials, purpose-scoped tokens, purpose-bound reads."""

from goodthings.rights.access.credentials import (
    AccessError,
    Grant,
    TokenSigner,
    authenticate,
    issue_secret,
)
from goodthings.rights.access.purpose_reads import (
    MAX_READINGS,
    Reading,
    ReadingsQuery,
    ReadResult,
    read_readings,
)

__all__ = [
    "MAX_READINGS",
    "AccessError",
    "Grant",
    "ReadResult",
    "Reading",
    "ReadingsQuery",
    "TokenSigner",
    "authenticate",
    "issue_secret",
    "read_readings",
]
