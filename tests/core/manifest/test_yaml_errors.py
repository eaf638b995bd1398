"""Whatever the bytes of a manifest, the loader answers with a ManifestError naming the place:
never a traceback from the YAML library, never memory spent on a bomb of aliases."""

from __future__ import annotations

from pathlib import Path

import pytest

from goodthings.core.errors import ManifestError, Problem
from goodthings.core.manifest import load_manifest, load_manifest_text

EXAMPLE = (Path(__file__).resolve().parents[3] / "examples" / "smart-home.yaml").read_text()


def _only_problem(text: str) -> Problem:
    with pytest.raises(ManifestError) as raised:
        load_manifest_text(text, "home.yaml")
    (problem,) = raised.value.problems
    return problem


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("places:\n  - id: fl\x00at\n", 2, "column 11: the character '\\x00'"),
        ("places:\n\t- id: flat\n", 2, "column 1: found character '\\t'"),
        ("places: [flat\nsubjects: x\n", 2, "column 9: expected ',' or ']'"),
        ("places: !!python/object:os.system x\n", 1, "column 9: could not determine a constructor"),
        ("places: *nowhere\n", 1, "column 9: found undefined alias 'nowhere'"),
        ("a: 1\nwhen: 2001-13-45\n", 2, "column 7: 2001-13-45 is not a valid value"),
        ("a: 1\nn: " + "9" * 5000 + "\n", 2, "column 4: "),
    ],
    ids=["NUL", "tab", "unclosed list", "python tag", "undefined alias", "bad date", "huge int"],
)
def test_a_yaml_error_is_a_manifest_problem_with_line_and_column(
    text: str, line: int, message: str
) -> None:
    problem = _only_problem(text)
    assert (problem.file, problem.line, problem.field) == ("home.yaml", line, "(syntax)")
    assert problem.message.startswith("not valid YAML at ")
    assert message in problem.message


def test_a_key_that_is_a_list_or_a_mapping_is_refused_at_its_line() -> None:
    problem = _only_problem("a: 1\n? [x, y]\n: z\n")
    assert problem.line == 2 and "a key must be a single word or number" in problem.message


def test_a_billion_laughs_is_refused_without_expanding_it() -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    problem = _only_problem("\n".join(lines) + "\n")
    assert "more than 100000 values" in problem.message and "aliases" in problem.message


def test_nesting_too_deep_for_a_manifest_is_refused() -> None:
    problem = _only_problem("a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert problem.line == 1 and "nested too deeply" in problem.message


def test_a_few_aliases_in_a_real_manifest_still_work() -> None:
    edited = EXAMPLE.replace("occupants: [alex, sam]", "occupants: &both [alex, sam]", 1)
    assert load_manifest_text(edited, "home.yaml").manifest.places[0].occupants == ["alex", "sam"]


def test_bytes_that_are_not_utf8_are_named_by_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "goodthings.yaml"
    path.write_bytes(b"places:\n  - id: fl\xe9t\n")
    with pytest.raises(ManifestError) as raised:
        load_manifest(path)
    (problem,) = raised.value.problems
    assert (problem.line, problem.field) == (2, "(file)")
    assert "not UTF-8 text at column 11" in problem.message


def test_a_directory_in_place_of_the_file_is_a_manifest_problem(tmp_path: Path) -> None:
    path = tmp_path / "goodthings.yaml"
    path.mkdir()
    with pytest.raises(ManifestError) as raised:
        load_manifest(path)
    (problem,) = raised.value.problems
    assert problem.field == "(file)" and "cannot be read" in problem.message
