"""SenML XML (RFC 8428 §7): decode an ``application/senml+xml`` pack.

The pack is a ``sensml`` element in the ``urn:ietf:params:xml:ns:senml`` namespace holding one
``senml`` element per record, its fields as attributes of the names and types of §7's schema
(doubles, ``bver`` an integer, ``vb`` an ``xs:boolean``, ``vd`` base64url text as in JSON). The
attributes become the same records JSON gives, so resolving is the one of §4.6.

Parsed with defusedxml: an entity declaration, external or not (billion laughs, XXE), is
refused rather than expanded. Choices where RFC 8428 leaves room: a child that is not a
``senml`` element, text content, or an attribute in another namespace is refused, naming the
record; EXI (§8) is not supported.
"""

from __future__ import annotations

import math
from typing import Final

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from goodthings.core.errors import SenMLError
from goodthings.ingest.senml.describe import shown
from goodthings.ingest.senml.records import Record
from goodthings.ingest.senml.resolution import resolve

NAMESPACE: Final = "urn:ietf:params:xml:ns:senml"
_PACK: Final = f"{{{NAMESPACE}}}sensml"
_RECORD: Final = f"{{{NAMESPACE}}}senml"
_DOUBLES: Final = frozenset({"bt", "bv", "bs", "v", "s", "t", "ut"})
_BOOLEANS: Final = {"true": True, "1": True, "false": False, "0": False}


def _value(label: str, text: str, index: int) -> object:
    if label in _DOUBLES:
        try:
            number = float(text)
        except ValueError:
            raise SenMLError(
                f"expected a number (xs:double), got {shown(text)}", index=index, field=label
            ) from None
        if not math.isfinite(number):
            raise SenMLError(
                f"expected a finite number, got {shown(text)}", index=index, field=label
            )
        return number
    if label == "bver":
        if not text.strip().isdigit():
            raise SenMLError(
                f"expected a version number (a positive integer), got {shown(text)}",
                index=index,
                field=label,
            )
        return int(text)
    if label == "vb":
        if text.strip() not in _BOOLEANS:
            raise SenMLError(
                f"expected true or false (xs:boolean), got {shown(text)}", index=index, field=label
            )
        return _BOOLEANS[text.strip()]
    return text


def parse_xml(payload: bytes, *, now: float) -> list[Record]:
    """Decode an ``application/senml+xml`` pack (RFC 8428 §7) and resolve it."""
    try:
        root = fromstring(payload, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise SenMLError(f"the XML declares {type(exc).__name__}; SenML XML needs none") from None
    except ParseError as exc:
        raise SenMLError(f"invalid XML: {exc}") from None
    if root.tag != _PACK:
        raise SenMLError(
            f"expected a <sensml> element in the namespace {NAMESPACE} (RFC 8428 §7), "
            f"got {shown(root.tag)}"
        )
    pack: list[dict[str, object]] = []
    for index, element in enumerate(root):
        if element.tag != _RECORD:
            raise SenMLError(f"expected a <senml> element, got {shown(element.tag)}", index=index)
        if (element.text or "").strip() or len(element):
            raise SenMLError("a <senml> record holds attributes only", index=index)
        record: dict[str, object] = {}
        for label, text in element.attrib.items():
            if label.startswith("{"):
                raise SenMLError(
                    f"an attribute in another namespace is not a SenML field: {shown(label)}",
                    index=index,
                )
            record[label] = _value(label, text, index)
        pack.append(record)
    if (root.text or "").strip():
        raise SenMLError("the <sensml> element holds records only, not text")
    return resolve(pack, now=now)
