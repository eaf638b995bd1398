"""SenML XML (RFC 8428 §7) and SenSML streams, and the media type of a pack sent without one.

The XML document below is RFC 8428 §7's own example (the §5.1.2 pack, bver 5 and all), as
independent SenML libraries carry it in their tests; it must resolve exactly as its JSON does.
"""

from __future__ import annotations

import json

import cbor2
import pytest

from goodthings.core.errors import SenMLError
from goodthings.ingest.senml import MEDIA_TYPES, parse, parse_json, parse_xml, sniff

NOW = 1_800_000_000.0

RFC_XML = b"""<sensml xmlns="urn:ietf:params:xml:ns:senml">
  <senml bn="urn:dev:ow:10e2073a0108006:" bt="1.276020076001e+09"
  bu="A" bver="5" n="voltage" u="V" v="120.1"></senml>
  <senml n="current" t="-5" v="1.2"></senml>
  <senml n="current" t="-4" v="1.3"></senml>
  <senml n="current" t="-3" v="1.4"></senml>
  <senml n="current" t="-2" v="1.5"></senml>
  <senml n="current" t="-1" v="1.6"></senml>
  <senml n="current" v="1.7"></senml>
</sensml>
"""

RFC_JSON = """[
  {"bn":"urn:dev:ow:10e2073a0108006:","bt":1.276020076001e+09,"bu":"A","bver":5,
   "n":"voltage","u":"V","v":120.1},
  {"n":"current","t":-5,"v":1.2},
  {"n":"current","t":-4,"v":1.3},
  {"n":"current","t":-3,"v":1.4},
  {"n":"current","t":-2,"v":1.5},
  {"n":"current","t":-1,"v":1.6},
  {"n":"current","v":1.7}
]"""


def test_the_rfc_xml_example_resolves_as_its_json() -> None:
    records = parse_xml(RFC_XML, now=NOW)
    assert len(records) == 7
    assert records == parse_json(RFC_JSON, now=NOW)


def test_every_value_type_in_xml() -> None:
    document = (
        b'<sensml xmlns="urn:ietf:params:xml:ns:senml">'
        b'<senml bn="urn:dev:mac:0024befffe804ff1:" bt="1.7e9" n="label" vs="Machine Room"/>'
        b'<senml n="open" vb="false"/><senml n="blob" vd="aGkgCg"/>'
        b'<senml n="energy" u="J" s="42.5"/></sensml>'
    )
    resolved = {r.name.rpartition(":")[2]: r for r in parse_xml(document, now=NOW)}
    assert resolved["label"].value == "Machine Room"
    assert resolved["open"].value is False
    assert resolved["blob"].value == b"hi \n"
    assert resolved["energy"].sum == 42.5


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"<sensml", "invalid XML"),
        (b"<sensml><senml n='x' v='1'/></sensml>", "namespace urn:ietf:params:xml:ns:senml"),
        (
            b'<sensml xmlns="urn:ietf:params:xml:ns:senml"><senml n="x" v="warm"/></sensml>',
            "expected a number",
        ),
        (
            b'<sensml xmlns="urn:ietf:params:xml:ns:senml"><senml n="x" vb="yes"/></sensml>',
            "xs:boolean",
        ),
        (
            b'<sensml xmlns="urn:ietf:params:xml:ns:senml"><senml n="x" v="INF"/></sensml>',
            "finite",
        ),
        (
            b'<sensml xmlns="urn:ietf:params:xml:ns:senml"><senml n="x" v="1">21</senml></sensml>',
            "attributes only",
        ),
        (
            b'<sensml xmlns="urn:ietf:params:xml:ns:senml"><other n="x" v="1"/></sensml>',
            "expected a <senml> element",
        ),
        (
            b'<sensml xmlns="urn:ietf:params:xml:ns:senml"><senml n="x" bver="11" v="1"/></sensml>',
            "newer than this codec understands",
        ),
    ],
)
def test_bad_xml_is_refused_naming_what(document: bytes, message: str) -> None:
    with pytest.raises(SenMLError, match=message):
        parse_xml(document, now=NOW)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE sensml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<sensml xmlns="urn:ietf:params:xml:ns:senml"><senml n="x" vs="&c;"/></sensml>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE sensml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<sensml xmlns="urn:ietf:params:xml:ns:senml"><senml n="x" vs="&secret;"/></sensml>"""


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_entities_are_refused_not_expanded(document: bytes) -> None:
    with pytest.raises(SenMLError, match="SenML XML needs none"):
        parse_xml(document, now=NOW)


def test_a_sensml_stream_is_read_as_its_records() -> None:
    """RFC 8428 §4.8: a stream carries the same records as a pack."""
    stream = RFC_JSON.encode()
    expected = parse_json(RFC_JSON, now=NOW)
    assert parse(stream, "application/sensml+json", now=NOW) == expected
    assert parse(RFC_XML, "application/sensml+xml", now=NOW) == expected
    assert {
        "application/senml+json",
        "application/senml+cbor",
        "application/senml+xml",
        "application/sensml+json",
        "application/sensml+cbor",
        "application/sensml+xml",
    } <= MEDIA_TYPES


@pytest.mark.parametrize(
    ("payload", "media"),
    [
        (cbor2.dumps([{0: "x", 2: 1.0}]), "application/senml+cbor"),
        (cbor2.dumps([]), "application/senml+cbor"),
        (b"\x9f\xff", "application/senml+cbor"),  # indefinite array: CBOR, refused by its codec
        (b'  [{"n":"x","v":1}]', "application/senml+json"),
        (b'\xef\xbb\xbf[{"n":"x","v":1}]', "application/senml+json"),
        (RFC_XML, "application/senml+xml"),
        (b"\n <sensml/>", "application/senml+xml"),
        (b"", "application/senml+json"),
        (b"garbage", "application/senml+json"),
    ],
)
def test_a_pack_without_a_media_type_is_recognised_by_its_first_byte(
    payload: bytes, media: str
) -> None:
    assert sniff(payload) == media


def test_an_unknown_media_type_is_refused_as_not_senml() -> None:
    with pytest.raises(SenMLError, match="'text/plain' is not SenML"):
        parse(json.dumps([{"n": "x", "v": 1}]).encode(), "text/plain", now=NOW)
