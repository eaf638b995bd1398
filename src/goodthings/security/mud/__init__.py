"""Manufacturer Usage Descriptions (RFC 8520): checking a MUD file and saying in plain words
what it lets a device talk to, writing one for a model, fetching a model's from its maker, and
compiling one into nftables rules (docs/monitoring.md, "MUD files")."""

from goodthings.security.mud.check import MudError, MudFile, Rule, check_mud, load_mud
from goodthings.security.mud.compile import generate, nft_ruleset, resolve
from goodthings.security.mud.fetch import (
    MUD_FOLDER,
    Fetched,
    MudFetchError,
    fetch_mud,
    verify_signature,
)

__all__ = [
    "MUD_FOLDER",
    "Fetched",
    "MudError",
    "MudFetchError",
    "MudFile",
    "Rule",
    "check_mud",
    "fetch_mud",
    "generate",
    "load_mud",
    "nft_ruleset",
    "resolve",
    "verify_signature",
]
