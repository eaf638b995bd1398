"""SenML codec (RFC 8428): decode a pack and resolve it into absolute, self-contained records.

A SenML pack is a JSON array (or CBOR array) of records; resolving applies its base fields so
that each :class:`Record` stands on its own. Every refusal is a
:class:`~goodthings.core.errors.SenMLError` that names the record (0-based) and the field, and
says what would have been accepted.

One job per module; each lists the choices it makes where RFC 8428 leaves room:

* ``records``: the resolved :class:`Record`.
* ``json_codec``: :func:`parse_json` (§5) and :func:`to_json`, the resolved pack back as JSON.
* ``cbor_codec``: :func:`parse_cbor` (§6, integer labels).
* ``xml_codec``: :func:`parse_xml` (§7, through defusedxml).
* ``media``: :func:`parse` by media type (SenML and SenSML in JSON, CBOR, XML), and
  :func:`sniff`, the type of a pack sent without one (MQTT 3.1.1).
* ``resolution``: :func:`resolve` (§4.6), the base-field rules, on the hot path of ingest.
* ``fields``: the check of each field's item (numbers, names, text, data, version).
* ``names``: :func:`stream_name`, a device's stream from a resolved name (its SenML
  base name or its id, then the stream).
* ``window``: :func:`check_times`, the window of times a hub accepts (1970 to a little after
  the pack was received).
* ``describe``: how an offending item is named in an error message, and
  :func:`without_values`, inside which no message quotes what was sent.
"""

from goodthings.ingest.senml.cbor_codec import parse_cbor
from goodthings.ingest.senml.describe import without_values
from goodthings.ingest.senml.fields import SUPPORTED_VERSION
from goodthings.ingest.senml.json_codec import parse_json, to_json
from goodthings.ingest.senml.media import (
    MEDIA_TYPES,
    SENML_CBOR,
    SENML_JSON,
    SENML_XML,
    parse,
    sniff,
)
from goodthings.ingest.senml.names import stream_name
from goodthings.ingest.senml.records import Record
from goodthings.ingest.senml.resolution import resolve
from goodthings.ingest.senml.window import check_times
from goodthings.ingest.senml.xml_codec import parse_xml

__all__ = [
    "MEDIA_TYPES",
    "SENML_CBOR",
    "SENML_JSON",
    "SENML_XML",
    "SUPPORTED_VERSION",
    "Record",
    "check_times",
    "parse",
    "parse_cbor",
    "parse_json",
    "parse_xml",
    "resolve",
    "sniff",
    "stream_name",
    "to_json",
    "without_values",
]
