"""SQL reaches the databases only as constant text with bound parameters, or composed with
``psycopg.sql``. A statement built from an f-string, ``%`` or ``+`` or ``str.format`` on text
fails here, wherever it is."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("domain", "policies", "projections", "ops")
SQL_METHODS = {"execute", "executemany", "copy", "executescript"}


def built_from_strings(node: ast.expr) -> bool:
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return any(isinstance(side, (ast.Constant, ast.JoinedStr, ast.BinOp)) for side in (node.left, node.right))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return isinstance(node.func.value, (ast.Constant, ast.JoinedStr))  # SQL("...").format(...) is fine
    return False


def offences() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in SQL_METHODS
                    and node.args
                    and built_from_strings(node.args[0])
                ):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_sql_statement_is_built_from_strings() -> None:
    assert offences() == []


def test_the_check_itself_catches_each_way_of_building_sql_from_strings() -> None:
    for source in ('c.execute(f"SELECT {x}")', 'c.execute("SELECT " + x)', 'c.execute("SELECT %s" % x)',
                   'c.executemany("SELECT {}".format(x), rows)'):
        call = ast.parse(source).body[0].value  # type: ignore[attr-defined]
        assert built_from_strings(call.args[0]), source
    for source in ('c.execute("SELECT 1 WHERE a = %s", (x,))', 'c.execute(SQL("SELECT {}").format(Identifier(x)))',
                   "c.execute(STATEMENT, params)"):
        call = ast.parse(source).body[0].value  # type: ignore[attr-defined]
        assert not built_from_strings(call.args[0]), source
