"""SenML CBOR (RFC 8428 §6): decode an ``application/senml+cbor`` pack.

Choices where RFC 8428 leaves room (each one is tested in tests/ingest/test_senml.py): a map
with a key twice is refused (cbor2 does it for free); the rest is in :func:`parse_cbor`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from io import BytesIO
from typing import Final

from goodthings.core.errors import SenMLError
from goodthings.ingest.senml.describe import kind_of
from goodthings.ingest.senml.records import Record
from goodthings.ingest.senml.resolution import resolve

# CBOR (RFC 8428 §6): integer labels for the fields of Table 4, native byte strings for vd.
_CBOR_LABELS: Final[Mapping[int, str]] = {
    -1: "bver",
    -2: "bn",
    -3: "bt",
    -4: "bu",
    -5: "bv",
    -6: "bs",
    0: "n",
    1: "u",
    2: "v",
    3: "vs",
    4: "vb",
    5: "s",
    6: "t",
    7: "ut",
    8: "vd",
}


def parse_cbor(payload: bytes, *, now: float) -> list[Record]:
    """Decode an ``application/senml+cbor`` pack (RFC 8428 §6) and resolve it.

    Labels are the integers of §6 Table 4; text labels are extension fields (a text label that
    spells a field of Table 4, such as ``"v"``, is read as that field). ``vd`` must be a byte
    string, ``bver`` an unsigned integer, and the pack a definite-length array.
    """
    import cbor2  # deferred: only CBOR ingest pays for the import

    decoder = cbor2.CBORDecoder(
        BytesIO(payload), allow_indefinite=False, allow_duplicate_keys=False
    )
    try:
        pack = decoder.decode()
    except cbor2.CBORDecodeEOF:
        raise SenMLError("invalid CBOR: the payload ends before the pack does") from None
    except cbor2.CBORDecodeError as exc:
        raise SenMLError(f"invalid CBOR: {exc}") from None
    except RecursionError:
        raise SenMLError("invalid CBOR: nested too deeply") from None
    try:
        decoder.decode()
    except cbor2.CBORDecodeEOF:
        pass
    except cbor2.CBORError:
        raise SenMLError("invalid CBOR: more data follows the pack") from None
    else:
        raise SenMLError("invalid CBOR: more data follows the pack")
    if not isinstance(pack, list):
        raise SenMLError(f"a SenML pack is a CBOR array of records, got {kind_of(pack)}")
    records: list[Mapping[str, object]] = []
    for index, record in enumerate(pack):
        if not isinstance(record, Mapping):
            raise SenMLError(f"expected a record (a CBOR map), got {kind_of(record)}", index=index)
        records.append(_from_cbor(record, index))
    return resolve(records, now=now)


def _from_cbor(record: Mapping[object, object], index: int) -> dict[str, object]:
    labelled: dict[str, object] = {}
    for key, item in record.items():
        if type(key) is int:
            if key not in _CBOR_LABELS:
                continue  # §6: Table 4 is conclusive; an unknown integer label is not "_"-marked
            label = _CBOR_LABELS[key]
        elif type(key) is str:
            label = key
        else:
            raise SenMLError(
                f"a record's labels are integers or text, got {kind_of(key)} as a label",
                index=index,
            )
        if label in labelled:
            raise SenMLError(
                f"the field {label!r} appears twice (as a text and as an integer label)",
                index=index,
                field=label,
            )
        if type(item) is Decimal:  # decimal fraction, CBOR tag 4
            item = _decimal(item, index, label)
        elif label == "vd" and type(item) is not bytes:
            raise SenMLError(
                f"expected a byte string, got {kind_of(item)}; CBOR carries data values as bytes, "
                "not base64 (RFC 8428 §6)",
                index=index,
                field=label,
            )
        elif label == "bver" and type(item) is not int:
            raise SenMLError(
                f"expected an unsigned integer, got {kind_of(item)} (RFC 8428 §6)",
                index=index,
                field=label,
            )
        labelled[label] = item
    return labelled


def _decimal(item: Decimal, index: int, field: str) -> float:
    number = float(item)
    if not math.isfinite(number):
        raise SenMLError(
            f"the decimal fraction {item} is not a finite double", index=index, field=field
        )
    return number
