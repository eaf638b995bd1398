"""Every ledger action the source writes has words for the portal: found by reading the source,
so a new action without words fails here before a person sees its raw name."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import goodthings
from goodthings.portal.actions import ACTIONS, ROUTINE, USES, words

SOURCE = Path(goodthings.__file__).parent


_CONSTANTS: dict[str, set[str]] = {}
"""Module-level UPPER_CASE names bound to a text, in any module: `action=ROTATE_MASTER`."""


def _texts(node: ast.expr) -> Iterator[str]:
    """Every text an expression can be: a constant, a named constant, or an f-string over
    constant choices."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.Name) and node.id.isupper():
        yield from _CONSTANTS.get(node.id, ())
    elif isinstance(node, ast.IfExp):
        yield from _texts(node.body)
        yield from _texts(node.orelse)
    elif isinstance(node, ast.JoinedStr):
        prefixes = [""]
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                options = list(_texts(part.value))
                if not options:
                    return  # not knowable from the source alone
            else:
                options = list(_texts(part))
            prefixes = [p + o for p in prefixes for o in options]
        yield from prefixes


def _action_positions(tree: ast.Module) -> dict[str, int]:
    """Functions with a parameter called `action`, and its position."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            names = [a.arg for a in node.args.posonlyargs + node.args.args]
            if "action" in names:
                found[node.name] = names.index("action")
    return found


def _called(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def actions_in_source() -> set[str]:
    trees = [ast.parse(path.read_text()) for path in SOURCE.rglob("*.py")]
    for tree in trees:
        for statement in tree.body:
            if (
                isinstance(statement, ast.Assign)
                and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str)
            ):
                for target in statement.targets:
                    if isinstance(target, ast.Name) and target.id.isupper():
                        _CONSTANTS.setdefault(target.id, set()).add(statement.value.value)
    # A private function is called only in its own module; a public one from anywhere.
    public = {
        name: at for tree in trees for name, at in _action_positions(tree).items() if name[0] != "_"
    }
    found: set[str] = set()
    for tree in trees:
        positions = {**public, **_action_positions(tree)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            for keyword in node.keywords:
                if keyword.arg == "action":
                    found.update(_texts(keyword.value))
            position = positions.get(_called(node))
            if position is not None and position < len(node.args):
                found.update(_texts(node.args[position]))
    return {action for action in found if action}


def test_the_source_scan_finds_the_actions_written_in_each_way() -> None:
    found = actions_in_source()
    assert {"ingest", "read", "share"} <= found  # keyword arguments
    assert {"objection.record", "objection.withdraw"} <= found  # an f-string over a choice
    assert {"portal.sign_in", "console.sign_in", "operator.add"} <= found  # positional
    assert {"keys.rotate-master", "quarantine", "release"} <= found  # named constants


def test_every_action_in_the_source_has_words() -> None:
    missing = actions_in_source() - ACTIONS.keys()
    assert not missing, f"add words to goodthings.portal.actions.ACTIONS for: {sorted(missing)}"


def test_no_words_repeat_a_raw_name() -> None:
    for action, text in ACTIONS.items():
        assert not re.search(r"\w[._]\w", text) and text.strip() == text, action
    assert (USES | ROUTINE) - ACTIONS.keys() == set()
    assert words("objection.record") == "An objection to decisions made by computer was recorded"
