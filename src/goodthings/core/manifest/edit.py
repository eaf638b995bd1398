"""Small, comment-preserving edits to a manifest's text (a YAML round trip would drop comments)."""

from __future__ import annotations

import re

_DEVICES = re.compile(r"^devices:\s*(?P<empty>\[\s*\])?\s*(#.*)?$")
_TOP_LEVEL = re.compile(r"^[^\s#-]")  # a key at column 0; a list item there is not one
_ITEM = re.compile(r"^(?P<indent>\s*)- ")


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def append_device(text: str, fields: dict[str, str]) -> str:
    """`text` with one more entry at the end of its top-level `devices:` list."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    start = next((i for i, line in enumerate(lines) if _DEVICES.match(line)), None)
    if start is None:
        lines.append("devices:\n")
        start = len(lines) - 1
    elif _DEVICES.match(lines[start]).group("empty"):  # type: ignore[union-attr]
        lines[start] = "devices:\n"
    end = next((i for i in range(start + 1, len(lines)) if _TOP_LEVEL.match(lines[i])), len(lines))
    # Insert after the list's last line with content, before blank lines and comments that
    # introduce the next section.
    while end > start + 1 and (
        not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")
    ):
        end -= 1
    indent = next(
        (m.group("indent") for line in lines[start + 1 : end] if (m := _ITEM.match(line))), "  "
    )
    entry = [f"{indent}- " if i == 0 else f"{indent}  " for i in range(len(fields))]
    block = [
        f"{prefix}{key}: {_quoted(value)}\n"
        for prefix, (key, value) in zip(entry, fields.items(), strict=True)
    ]
    return "".join(lines[:end] + block + lines[end:])
