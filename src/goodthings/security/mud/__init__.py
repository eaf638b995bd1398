"""Manufacturer Usage Descriptions (RFC 8520): checking a MUD file and saying in plain words
what it lets a device talk to, writing one for a model, and compiling one into nftables rules
(docs/monitoring.md, "MUD files")."""

from goodthings.security.mud.check import MudError, MudFile, Rule, check_mud, load_mud
from goodthings.security.mud.compile import generate, nft_ruleset, resolve

__all__ = [
    "MudError",
    "MudFile",
    "Rule",
    "check_mud",
    "generate",
    "load_mud",
    "nft_ruleset",
    "resolve",
]
