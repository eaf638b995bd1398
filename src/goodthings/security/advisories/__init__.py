"""Security advisories (CSAF 2.0, OSV) matched against the fleet: device models at their
firmware, and the components of their SBOMs (CycloneDX, SPDX) at their versions.

Each format's reader lists the choices it makes where its standard leaves room (`csaf.py`,
`osv.py`); `matching.py` says how a range meets a device, `packages.py` how a package is named
and its versions ordered, `severity.py` how scores become one word.
"""

from goodthings.security.advisories.matching import affected_devices, in_range
from goodthings.security.advisories.model import (
    SEVERITIES,
    Advisory,
    AdvisoryError,
    Affected,
    Range,
)
from goodthings.security.advisories.read import read_advisory
from goodthings.security.advisories.sbom import Component, read_sbom
from goodthings.security.advisories.stored import (
    Listed,
    list_advisories,
    model_components,
    store_advisories,
    store_advisory,
    store_components,
)

__all__ = [
    "SEVERITIES",
    "Advisory",
    "AdvisoryError",
    "Affected",
    "Component",
    "Listed",
    "Range",
    "affected_devices",
    "in_range",
    "list_advisories",
    "model_components",
    "read_advisory",
    "read_sbom",
    "store_advisories",
    "store_advisory",
    "store_components",
]
