"""The auditor's probe: looks for devices on the network that still accept a default login,
speak in clear where nothing should, or listen on a port their declared usage (MUD file) does
not name, and only where an auditor was allowed to look.

It refuses to run without a statement of who authorised it and only touches the address ranges
given, with a bounded number of attempts and a deadline; what it finds becomes evidence for
the assessment (docs/assessment.md, "The auditor's probe").
"""

from goodthings.assessment.probe.results import (
    PROBES_DIR,
    Finding,
    ProbeReport,
    keep_report,
    latest_probe,
)
from goodthings.assessment.probe.run import Bounds, run_probe
from goodthings.assessment.probe.scope import Scope, ScopeError, scope_of
from goodthings.assessment.probe.usage import COMMON_PORTS, DeclaredUsage, kept_usage

__all__ = [
    "COMMON_PORTS",
    "PROBES_DIR",
    "Bounds",
    "DeclaredUsage",
    "Finding",
    "ProbeReport",
    "Scope",
    "ScopeError",
    "keep_report",
    "kept_usage",
    "latest_probe",
    "run_probe",
    "scope_of",
]
