"""Units: a reading is stored in the unit its stream declares (RFC 8428 §4.5.2, §12.1).

A record without a unit is taken to be in the stream's unit. A record in another unit is
converted when a conversion below is exact, and refused otherwise: storing 294.65 kelvin as
294.65 degrees Celsius would be a wrong reading, not a missing one. A stream that declares no
unit has nothing to compare with, and takes a record's unit as sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Final

from goodthings.core.errors import SenMLError
from goodthings.ingest.senml import Record

# (sent, stored) -> (scale, offset): stored = sent * scale + offset.
# RFC 8428 §12.1 registers K (kelvin) and Cel (degrees Celsius); by the SI's definition of the
# degree Celsius (BIPM, The International System of Units, 9th edition, §2.3.1),
# t/°C = T/K - 273.15 exactly.
CONVERSIONS: Final[Mapping[tuple[str, str], tuple[float, float]]] = {
    ("K", "Cel"): (1.0, -273.15),
    ("Cel", "K"): (1.0, 273.15),
}


def in_stream_unit(record: Record, stream: str, unit: str) -> Record:
    """`record`, whose unit is not `unit`, converted to `unit`, or a SenMLError that says why not."""
    sent = record.unit
    conversion = CONVERSIONS.get((sent or "", unit))
    if conversion is None:
        others = [source for source, target in CONVERSIONS if target == unit]
        convertible = f", or in {' or '.join(others)}, which the hub converts" if others else ""
        raise SenMLError(
            f"unit {sent!r} does not match stream {stream!r} ({unit}); send the value in "
            f"{unit}{convertible} (RFC 8428 §12.1)",
            index=record.index,
            field="u",
        )
    scale, offset = conversion
    value = record.value
    if not isinstance(value, float) or (record.sum is not None and offset):
        raise SenMLError(
            f"unit {sent!r} is converted to {unit} only for a number in 'v'; send the value in "
            f"{unit}",
            index=record.index,
            field="u",
        )
    total = None if record.sum is None else record.sum * scale
    return replace(record, unit=unit, value=value * scale + offset, sum=total)
