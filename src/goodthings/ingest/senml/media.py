"""Which SenML representation a pack is in: its media type, or, without one, its first byte.

RFC 8428 §12 registers SenML and SenSML in JSON, CBOR and XML. A SenSML stream (`sensml`) has
the same records as a pack; the hub reads a whole message at once, so each stream type is read
as its pack type. A pack whose transport carries no media type (MQTT 3.1.1, such as the
embedded broker; MQTT 5 without a Content Type) is recognised by content: a CBOR array starts
with a byte from 0x80 to 0x9f, which no JSON or XML text can start with; XML starts with `<`
(after any blanks or a byte-order mark); anything else is read as JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from goodthings.core.errors import SenMLError
from goodthings.ingest.senml.cbor_codec import parse_cbor
from goodthings.ingest.senml.json_codec import parse_json
from goodthings.ingest.senml.records import Record
from goodthings.ingest.senml.xml_codec import parse_xml

SENML_JSON: Final = "application/senml+json"
SENML_CBOR: Final = "application/senml+cbor"
SENML_XML: Final = "application/senml+xml"
SENSML_JSON: Final = "application/sensml+json"
SENSML_CBOR: Final = "application/sensml+cbor"
SENSML_XML: Final = "application/sensml+xml"

_PARSERS: Final[Mapping[str, Callable[..., list[Record]]]] = {
    SENML_JSON: parse_json,
    SENSML_JSON: parse_json,
    "application/json": parse_json,
    SENML_CBOR: parse_cbor,
    SENSML_CBOR: parse_cbor,
    SENML_XML: parse_xml,
    SENSML_XML: parse_xml,
}
MEDIA_TYPES: Final = frozenset(_PARSERS)
"""Every media type a pack may be sent as."""


def sniff(payload: bytes) -> str:
    """The media type of a pack sent without one, from its first byte."""
    start = payload.lstrip(b" \t\r\n")
    if start.startswith(b"\xef\xbb\xbf"):
        start = start[3:].lstrip(b" \t\r\n")
    if start[:1] and 0x80 <= start[0] <= 0x9F:
        return SENML_CBOR
    if start.startswith(b"<"):
        return SENML_XML
    return SENML_JSON


def parse(payload: bytes, media_type: str | None, *, now: float) -> list[Record]:
    """Decode and resolve a pack of `media_type` (one of `MEDIA_TYPES`; None: recognised by
    content). Raises SenMLError for anything that is not a valid pack of that type."""
    parser = _PARSERS.get(media_type or sniff(payload))
    if parser is None:
        raise SenMLError(
            f"the pack's media type {media_type!r} is not SenML; send one of "
            f"{', '.join(sorted(MEDIA_TYPES))}"
        )
    return parser(payload, now=now)
