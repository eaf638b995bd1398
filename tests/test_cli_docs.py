"""Every command has help text and a section in docs/cli.md (after sqlite-utils' test_docs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_helpers import commands

DOCS = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text()


COMMANDS = {" ".join(["goodthings", *path]): command for path, command in commands()}


def test_there_are_commands_to_check() -> None:
    assert {"goodthings init", "goodthings apply", "goodthings manifest check"} <= set(COMMANDS)


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_command_has_help_and_a_docs_section(path: str) -> None:
    command = COMMANDS[path]
    assert command.help and command.help.strip(), f"{path} has no help text"
    assert f"## `{path}" in DOCS, f"docs/cli.md has no section for {path}"
    for param in command.params:
        if param.param_type_name == "option" and param.name != "help":
            assert param.help, f"{path} option {param.opts} has no help text"
