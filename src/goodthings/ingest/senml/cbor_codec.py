"""SenML CBOR (RFC 8428 §6): decode an ``application/senml+cbor`` pack.

Choices where RFC 8428 leaves room (each one is tested in tests/ingest/test_senml.py): a map
with a key twice is refused (cbor2 does it for free, and SenML JSON refuses a member name given
twice too); the rest is in :func:`parse_cbor`. Records are decoded one by one, so that anything
the decoder refuses (a bad tag, nesting beyond cbor2's limit of 400) names its record.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal
from io import BytesIO
from typing import TYPE_CHECKING, Final

from goodthings.core.errors import SenMLError
from goodthings.ingest.senml.describe import kind_of, shown
from goodthings.ingest.senml.records import Record
from goodthings.ingest.senml.resolution import resolve

if TYPE_CHECKING:
    import cbor2

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

    stream = BytesIO(payload)
    decoder = cbor2.CBORDecoder(stream, allow_indefinite=False, allow_duplicate_keys=False)
    count, offset = _array_head(payload)
    if count is None:  # not a definite array: decode the item whole, to say what it is
        pack = _decode(decoder, None)
        _refuse_more(decoder)
        raise SenMLError(f"a SenML pack is a CBOR array of records, got {kind_of(pack)}")
    stream.seek(offset)
    records: list[Mapping[str, object]] = []
    for index in range(count):
        record = _decode(decoder, index)
        if not isinstance(record, Mapping):
            raise SenMLError(f"expected a record (a CBOR map), got {kind_of(record)}", index=index)
        records.append(_from_cbor(record, index))
    _refuse_more(decoder)
    return resolve(records, now=now)


def _array_head(payload: bytes) -> tuple[int | None, int]:
    """The item count of a definite-length array at the start (RFC 8949 §3), and its end."""
    if not payload or payload[0] >> 5 != 4:
        return None, 0
    info = payload[0] & 0x1F
    if info < 24:
        return info, 1
    size = {24: 1, 25: 2, 26: 4, 27: 8}.get(info)
    if size is None or len(payload) < 1 + size:
        return None, 0  # indefinite or cut short: the decoder says which
    return int.from_bytes(payload[1 : 1 + size], "big"), 1 + size


def _decode(decoder: cbor2.CBORDecoder, index: int | None) -> object:
    """The next item; any failure of the decoder is a SenMLError naming the record."""
    import cbor2

    try:
        return decoder.decode()
    except cbor2.CBORDecodeEOF:
        raise SenMLError(
            "invalid CBOR: the payload ends before the pack does", index=index
        ) from None
    except cbor2.CBORDecodeError as exc:
        twice = _DUPLICATE.search(str(exc))
        if twice is not None:
            raise SenMLError(
                f"the label {twice.group(1)} appears twice in the record; a SenML record names "
                "each field once (a CBOR map with a key twice is not valid, RFC 8949 §5.6)",
                index=index,
            ) from None
        raise SenMLError(f"invalid CBOR: {exc}", index=index) from None
    except RecursionError:
        raise SenMLError("invalid CBOR: nested too deeply", index=index) from None


def _refuse_more(decoder: cbor2.CBORDecoder) -> None:
    import cbor2

    try:
        decoder.decode()
    except cbor2.CBORDecodeEOF:
        return
    except (cbor2.CBORError, RecursionError):
        pass
    raise SenMLError("invalid CBOR: more data follows the pack")


_DUPLICATE: Final = re.compile(r"Duplicate map key: (.{1,60})")


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
        raise SenMLError(f"{shown(item)} is not a finite double", index=index, field=field)
    return number
