"""``ops.cli``'s table is the one list of commands: every command module is in it exactly once,
and it is the whole command line (nothing registers itself)."""

from __future__ import annotations

import ast
from pathlib import Path

from ops import cli

COMMANDS_DIR = Path(cli.__file__).parent / "commands"


def test_every_command_module_is_in_the_table_exactly_once() -> None:
    with_register = sorted(
        f"ops.commands.{path.stem}" for path in COMMANDS_DIR.glob("*.py")
        if any(isinstance(node, ast.FunctionDef) and node.name == "register" for node in ast.parse(path.read_text()).body)
    )
    in_table = sorted(register.__module__ for register in cli.COMMANDS)
    assert in_table == with_register


def test_the_quarantine_group_holds_its_four_commands() -> None:
    [(name, group)] = cli.GROUPS
    assert name == "quarantine"
    assert [c.name for c in group.registered_commands] == ["list", "show", "resubmit", "dismiss"]
