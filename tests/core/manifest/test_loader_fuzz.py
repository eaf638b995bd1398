"""Property tests: whatever text the loader is given, only ManifestError comes out.

Three sources of input: any text; text made of YAML's own punctuation (where the parser's
corners are); and the repository's example manifests with one value changed, added or
removed at random (where the schema's and the cross-checks' corners are).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goodthings.core.errors import ManifestError
from goodthings.core.manifest import load_manifest_text

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "examples").glob("*.yaml"))
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _loads_or_refuses(text: str) -> None:
    try:
        load_manifest_text(text, "fuzz.yaml")
    except ManifestError as error:
        assert error.problems, "a ManifestError always names at least one problem"
        for problem in error.problems:
            assert problem.file == "fuzz.yaml" and problem.message


@FUZZ
@given(st.text())
def test_any_text_is_loaded_or_refused_with_a_manifest_error(text: str) -> None:
    _loads_or_refuses(text)


YAML_PIECES = st.sampled_from(
    [": ", "- ", "\n", "  ", "\t", "[", "]", "{", "}", ",", "&a ", "*a", "!!str ", "!!binary ",
     "!!timestamp ", "? ", "|", ">", "'", '"', "#", "%YAML 1.1\n", "---\n", "...\n", "@", "`",
     "\x00", "\ufeff", "\\x", "1e999", "0x1F", "2001-13-45", "~", "null", "true", "off",
     "id", "places", "devices", "streams", "purposes"]
)  # fmt: skip


@FUZZ
@given(st.lists(YAML_PIECES | st.text(max_size=5), max_size=40).map("".join))
def test_yaml_punctuation_is_loaded_or_refused_with_a_manifest_error(text: str) -> None:
    _loads_or_refuses(text)


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["", "P1D", "P-1D", "PT0S", "coarse", "aggregate", "off", "Cel", "flat-4"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*path, index))
    return found


def _mutated(data: Any, path: tuple[Any, ...], action: str, value: Any, key: str) -> Any:
    if not path:
        return value if action == "replace" else data
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "replace":
        parent[last] = value
    elif action == "remove":
        del parent[last]
    elif isinstance(parent, dict):
        parent[key] = value
    else:
        parent.insert(last, value)
    return data


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_a_valid_example_with_one_change_is_loaded_or_refused_with_a_manifest_error(
    example: Path,
) -> None:
    original = yaml.safe_load(example.read_text())

    @settings(FUZZ, max_examples=100)
    @given(
        choice=st.data(),
        action=st.sampled_from(["replace", "remove", "add"]),
        value=VALUES,
        key=st.text(max_size=12),
    )
    def check(choice: st.DataObject, action: str, value: Any, key: str) -> None:
        data = copy.deepcopy(original)
        path = choice.draw(st.sampled_from(_paths(data)))
        edited = _mutated(data, path, action, value, key)
        _loads_or_refuses(yaml.dump(edited, Dumper=_DUMPER, allow_unicode=True))

    check()
