"""Which stream of a device a resolved SenML name is: the name less the device's own prefix.

RFC 8428 §4.5.1 recommends a globally unique base name such as `urn:dev:ow:10e2073a01080063:`
or `urn:dev:mac:0024befffe804ff1:`, then the measurement's name (`temp`). A device's prefix is
its SenML name from the manifest (`devices[].senml_name`), or its id (`kitchen-1:temp`), either
followed by one of `:`, `/`, `.` unless it already ends with one. A name with neither prefix is
taken as the stream's name itself.
"""

from __future__ import annotations

_SEPARATORS = (":", "/", ".")


def _strip(name: str, prefix: str) -> str | None:
    if prefix.endswith(_SEPARATORS):
        return name[len(prefix) :] if name.startswith(prefix) and len(name) > len(prefix) else None
    for separator in _SEPARATORS:
        start = prefix + separator
        if name.startswith(start) and len(name) > len(start):
            return name[len(start) :]
    return None


def stream_name(name: str, device_id: str, senml_name: str | None = None) -> str:
    """`urn:dev:ow:10e2073a01080063:temp` → `temp` for the device named so; else `name`."""
    for prefix in (senml_name, device_id):
        if prefix:
            rest = _strip(name, prefix)
            if rest is not None:
                return rest
    return name
