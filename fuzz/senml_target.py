"""The property every SenML fuzz target checks: a pack gives trustworthy records or a SenMLError.

Imported by the atheris runners beside it, with instrumentation on, so that coverage of the
codec guides the fuzzer; any other exception, or a record a reader could not trust, is a crash.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from goodthings.core.errors import SenMLError
from goodthings.ingest.senml import Record, parse_cbor, parse_json

NOW = 1_790_000_000.0

Parse = Callable[..., Sequence[Record]]
PARSERS: dict[str, Parse] = {"json": parse_json, "cbor": parse_cbor}


def check(parse: Parse, data: bytes) -> None:
    try:
        records = parse(data, now=NOW)
    except SenMLError as error:
        if not str(error):
            raise AssertionError("a SenMLError without a message") from error
        return
    for record in records:
        numbers = (record.time, record.sum, record.update_time)
        if isinstance(record.value, float):
            numbers += (record.value,)
        if not all(number is None or math.isfinite(number) for number in numbers):
            raise AssertionError(f"an accepted record holds a number that is not finite: {record}")
