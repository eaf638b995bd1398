"""Icons for signs, one per kind of data and per kind of purpose, in the spirit of DTPR.

Each icon is a few strokes on a 24 by 24 grid, so the same drawing goes to SVG and to PDF.
Streams are matched to a data icon by their correlation signals (see `goodthings.transparency.inference`),
purposes to a purpose icon by DPV term; anything unmatched gets the generic icon of its kind.
"""

from __future__ import annotations

from dataclasses import dataclass

Shape = tuple[str, tuple[float, ...]]
"""("circle", (cx, cy, r)), ("rect", (x, y, w, h)) or ("line", (x1, y1, x2, y2, …))."""


@dataclass(frozen=True)
class Icon:
    id: str
    label: str
    shapes: tuple[Shape, ...]


_PERSON: tuple[Shape, ...] = (
    ("circle", (12, 6, 3.5)),
    ("line", (5, 22, 5, 16, 8, 12, 16, 12, 19, 16, 19, 22)),
)

DATA_ICONS: dict[str, Icon] = {
    "presence": Icon("presence", "Presence in a room", _PERSON),
    "entry": Icon("entry", "Doors opening", (("rect", (6, 2, 12, 20)), ("circle", (15, 12, 1)))),
    "energy": Icon(
        "energy", "Energy use", (("line", (13, 2, 6, 13, 12, 13, 10, 22, 18, 10, 12, 10, 13, 2)),)
    ),
    "location": Icon(
        "location",
        "Location",
        (("circle", (12, 9, 3)), ("line", (5, 10, 12, 22, 19, 10)), ("circle", (12, 9, 7))),
    ),
    "health": Icon(
        "health",
        "Health",
        (("line", (12, 21, 3, 11, 5, 5, 9, 4, 12, 7, 15, 4, 19, 5, 21, 11, 12, 21)),),
    ),
    "activity": Icon(
        "activity",
        "Movement and activity",
        (("line", (2, 12, 7, 12, 9, 6, 13, 18, 15, 12, 22, 12)),),
    ),
    "device-identifier": Icon(
        "device-identifier",
        "Phone or device codes",
        (("rect", (7, 2, 10, 20)), ("line", (10, 18, 14, 18))),
    ),
    "measurement": Icon(
        "measurement",
        "Measurements",
        (("rect", (10, 2, 4, 14)), ("circle", (12, 18, 4))),
    ),
    "temperature": Icon(
        "temperature",
        "Temperature",
        (("rect", (10, 2, 4, 13)), ("circle", (12, 18, 4)), ("line", (16, 6, 19, 6))),
    ),
    "humidity": Icon(
        "humidity", "Humidity", (("line", (12, 2, 5, 13, 7, 19, 12, 22, 17, 19, 19, 13, 12, 2)),)
    ),
    "air": Icon(
        "air",
        "Air quality",
        (
            ("line", (2, 8, 14, 8, 17, 5, 14, 2)),
            ("line", (2, 13, 20, 13, 22, 16, 19, 19)),
            ("line", (2, 18, 10, 18)),
        ),
    ),
    "count": Icon(
        "count",
        "Counts of people or vehicles, not who they are",
        (
            ("line", (4, 5, 4, 19)),
            ("line", (8, 5, 8, 19)),
            ("line", (12, 5, 12, 19)),
            ("line", (16, 5, 16, 19)),
            ("line", (2, 17, 20, 7)),
        ),
    ),
    "occupancy": Icon(
        "occupancy",
        "Whether a space is taken",
        (("rect", (3, 3, 18, 18)), ("line", (9, 17, 9, 7, 14, 7, 15, 10, 14, 12, 9, 12))),
    ),
    "personal": Icon(
        "personal",
        "Information about people",
        (*_PERSON, ("line", (15, 18, 17, 20, 21, 15))),
    ),
}

PURPOSE_ICONS: dict[str, Icon] = {
    "service": Icon(
        "service",
        "To provide the service",
        (
            ("circle", (12, 12, 4)),
            ("line", (12, 2, 12, 6)),
            ("line", (12, 18, 12, 22)),
            ("line", (2, 12, 6, 12)),
            ("line", (18, 12, 22, 12)),
            ("line", (5, 5, 8, 8)),
            ("line", (16, 16, 19, 19)),
            ("line", (19, 5, 16, 8)),
            ("line", (8, 16, 5, 19)),
        ),
    ),
    "personalise": Icon(
        "personalise",
        "To suit it to you",
        (
            ("line", (4, 4, 4, 20)),
            ("line", (12, 4, 12, 20)),
            ("line", (20, 4, 20, 20)),
            ("rect", (2, 13, 4, 3)),
            ("rect", (10, 6, 4, 3)),
            ("rect", (18, 15, 4, 3)),
        ),
    ),
    "optimise": Icon(
        "optimise",
        "To use less and work better",
        (("line", (3, 18, 3, 15, 6, 9, 12, 6, 18, 9, 21, 15, 21, 18)), ("line", (12, 16, 17, 10))),
    ),
    "research": Icon(
        "research",
        "Research",
        (("line", (9, 2, 9, 9, 3, 21, 21, 21, 15, 9, 15, 2)), ("line", (7, 2, 17, 2))),
    ),
    "public": Icon(
        "public",
        "Public benefit",
        (
            ("circle", (7, 7, 3)),
            ("circle", (17, 7, 3)),
            ("line", (2, 20, 7, 12, 12, 20, 17, 12, 22, 20)),
        ),
    ),
    "security": Icon(
        "security",
        "Safety and security",
        (("line", (12, 2, 20, 5, 20, 12, 12, 22, 4, 12, 4, 5, 12, 2)),),
    ),
    "payment": Icon("payment", "Billing", (("circle", (12, 12, 9)), ("line", (12, 6, 12, 18)))),
    "transport": Icon(
        "transport",
        "Transport",
        (("rect", (3, 4, 18, 13)), ("circle", (7, 20, 2)), ("circle", (17, 20, 2))),
    ),
    "law": Icon(
        "law",
        "Legal duties",
        (
            ("line", (12, 3, 12, 21)),
            ("line", (4, 7, 20, 7)),
            ("line", (2, 14, 4, 7, 6, 14)),
            ("line", (18, 14, 20, 7, 22, 14)),
        ),
    ),
    "public-services": Icon(
        "public-services",
        "To improve public services",
        (
            ("line", (2, 9, 12, 3, 22, 9)),
            ("line", (5, 10, 5, 18)),
            ("line", (10, 10, 10, 18)),
            ("line", (14, 10, 14, 18)),
            ("line", (19, 10, 19, 18)),
            ("line", (2, 21, 22, 21)),
        ),
    ),
    "statistics": Icon(
        "statistics",
        "Official statistics",
        (("rect", (3, 13, 4, 8)), ("rect", (10, 7, 4, 14)), ("rect", (17, 3, 4, 18))),
    ),
    "health-care": Icon(
        "health-care",
        "Care and health",
        (
            (
                "line",
                (
                    9,
                    3,
                    15,
                    3,
                    15,
                    9,
                    21,
                    9,
                    21,
                    15,
                    15,
                    15,
                    15,
                    21,
                    9,
                    21,
                    9,
                    15,
                    3,
                    15,
                    3,
                    9,
                    9,
                    9,
                    9,
                    3,
                ),
            ),
        ),
    ),
}

_PURPOSE_GROUPS: dict[str, str] = {
    "ServicePersonalisation": "personalise",
    "PersonalisedBenefits": "personalise",
    "OptimisationForConsumer": "optimise",
    "OptimisationForController": "optimise",
    "InternalResourceOptimisation": "optimise",
    "ServiceOptimisation": "optimise",
    "PaymentManagement": "payment",
    "ResearchAndDevelopment": "research",
    "AcademicResearch": "research",
    "CommercialResearch": "research",
    "NonCommercialResearch": "research",
    "ScientificResearch": "research",
    "PublicBenefit": "public",
    "ImprovePublicServices": "public-services",
    "ProvideOfficialStatistics": "statistics",
    "CombatClimateChange": "public",
    "DataAltruism": "public",
    "EnforceSecurity": "security",
    "EnforceAccessControl": "security",
    "MisusePreventionAndDetection": "security",
    "FraudPreventionAndDetection": "security",
    "IdentityAuthentication": "security",
    "IdentityVerification": "security",
    "ImproveTransportMobility": "transport",
    "LegalCompliance": "law",
    "RecordManagement": "law",
    "RightsFulfilment": "law",
    "ImproveHealthcare": "health-care",
}


_UNIT_ICONS = {"Cel": "temperature", "K": "temperature", "%RH": "humidity", "ug/m3": "air"}
_UNIT_ICONS |= {"ppm": "air", "ppb": "air", "count": "count"}
_NAME_ICONS = (("occupied", "occupancy"), ("humidity", "humidity"), ("temperature", "temperature"))


def data_icon(signals: frozenset[str], personal: bool, unit: str | None, name: str) -> Icon:
    """The icon of what the stream measures: its signals first, then its unit or name."""
    for key in (
        "device-identifier",
        "health",
        "location",
        "presence",
        "entry",
        "energy",
        "activity",
    ):
        if key in signals:
            return DATA_ICONS[key]
    if unit in _UNIT_ICONS:
        return DATA_ICONS[_UNIT_ICONS[unit]]
    for word, key in _NAME_ICONS:
        if word in name:
            return DATA_ICONS[key]
    # an unmatched stream gets its kind's generic icon, never a specific one it is not
    return DATA_ICONS["personal" if personal else "measurement"]


def purpose_icon(purpose: str) -> Icon:
    return PURPOSE_ICONS[_PURPOSE_GROUPS.get(purpose, "service")]
