"""Small, comment-preserving edits to a manifest's text (a YAML round trip would drop comments)."""

from __future__ import annotations

import itertools
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


_ID = re.compile(r"""^\s*(?:-\s+)?id:\s*["']?(?P<id>[^"'\s#]+)["']?\s*(#.*)?$""")


def remove_device(text: str, device_id: str) -> str | None:
    """`text` without the block-style entry of `device_id` in `devices:`, or None when there
    is no such entry (a flow-style one included: then the person edits the file)."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _DEVICES.match(line)), None)
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(lines)) if _TOP_LEVEL.match(lines[i])), len(lines))
    marks = [(i, m.group("indent")) for i in range(start + 1, end) if (m := _ITEM.match(lines[i]))]
    items = [i for i, indent in marks if indent == marks[0][1]] + [end] if marks else [end]
    for first, after in itertools.pairwise(items):
        own = [lines[first]] + [
            line
            for line in lines[first + 1 : after]
            if line.startswith(marks[0][1] + "  ") and not line[len(marks[0][1]) + 2].isspace()
        ]
        if any((m := _ID.match(line)) and m.group("id") == device_id for line in own):
            while after > first + 1 and (
                not lines[after - 1].strip() or lines[after - 1].lstrip().startswith("#")
            ):
                after -= 1  # keep the blank lines and comments that introduce what follows
            return "".join(lines[:first] + lines[after:])
    return None
