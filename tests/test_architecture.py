"""The direction of dependencies (STYLE.md): ops -> projections -> policies -> domain.

Parsed with ``ast``, so a forbidden import anywhere in a package fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {
    "domain": {"domain"},
    "policies": {"domain", "policies"},
    "projections": {"domain", "policies", "projections"},
    "ops": {"domain", "policies", "projections", "ops"},
}
OURS = set(ALLOWED)
NOT_IN_PURE_CODE = {"psycopg", "sqlite3", "os", "structlog", "logging", "time", "random", "socket", "subprocess"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_packages_import_only_along_the_allowed_direction(package: str) -> None:
    offences = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in (ROOT / package).rglob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] in OURS and name.split(".")[0] not in ALLOWED[package]
    ]
    assert offences == []


@pytest.mark.parametrize("package", ["domain", "policies"])
def test_pure_packages_do_no_io_logging_or_clock_reading(package: str) -> None:
    offences = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in (ROOT / package).rglob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] in NOT_IN_PURE_CODE
    ]
    assert offences == []
