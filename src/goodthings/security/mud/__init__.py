"""Manufacturer Usage Descriptions (RFC 8520): checking a MUD file and saying in plain words
what it lets a device talk to (docs/monitoring.md, "MUD files")."""

from goodthings.security.mud.check import MudError, MudFile, Rule, check_mud, load_mud

__all__ = ["MudError", "MudFile", "Rule", "check_mud", "load_mud"]
