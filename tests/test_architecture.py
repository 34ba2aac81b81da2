"""The shape of the code, checked by parsing it (``ast``), never by importing it:

- the direction of dependencies (STYLE.md): ops -> projections -> policies -> domain, seen
  through absolute, relative and dynamic (``importlib.import_module("...")``) imports;
- dynamic imports only where a table names them (ALLOWED_DYNAMIC_IMPORTS);
- pure code (domain, policies) does no I/O and no logging; only ``ops`` reads the clock;
- a rule family (a subpackage of ``policies`` holding rules) is imported by ``policies`` only;
- each bound (``*_MAX``, ``*_MIN``) is defined once; ``ops.api``'s modules import no circle.

Each checker takes a module's source and name, so the tests at the end plant a violation in a
few lines of source and see it caught."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
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
# Reading the wall clock: ops reads it and passes it in (ops.wiring.wall_clock, ``at=`` arguments).
CLOCK_READINGS = {
    "datetime.datetime.now", "datetime.datetime.utcnow", "datetime.datetime.today", "datetime.date.today",
    "time.time", "time.time_ns",
}
# Where a module is imported by a name computed at run time, and why.
ALLOWED_DYNAMIC_IMPORTS = {
    "ops/bench/__main__.py": "each benchmark is imported when it runs, so one's imports never stop another",
}
NOT_DYNAMIC = {"importlib.resources", "importlib.metadata"}  # package data and versions, no import
BOUND = re.compile(r"[A-Z][A-Z0-9_]*_(MAX|MIN)(_[A-Z]+)?")


# --- reading a module -----------------------------------------------------------------------
def module_of(path: Path) -> tuple[str, bool]:
    """The dotted name of a file under ROOT, and whether it is a package's ``__init__``."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def sources(*packages: str) -> Iterator[tuple[Path, str, str, bool]]:
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            module, is_package = module_of(path)
            yield path, path.read_text(), module, is_package


def resolved(module: str, is_package: bool, level: int, name: str | None) -> str:
    """What ``from <level dots><name> import ...`` in ``module`` names, absolutely."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    assert level - 1 <= len(package) - 1, f"{module}: a relative import beyond its top-level package"
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, name] if name else base)


def import_aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> the dotted name it is bound to by an import (``dt`` -> ``datetime.datetime``)."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def dotted(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """``a.b.c`` with ``a`` resolved through the imports; None for anything else."""
    attrs: list[str] = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([aliases.get(node.id, node.id), *reversed(attrs)])


def dynamic_import_calls(tree: ast.AST) -> Iterator[tuple[ast.Call, str | None]]:
    """``importlib.import_module(X)``, ``import_module(X)`` and ``__import__(X)`` calls, with
    the module named when X is a literal."""
    aliases = import_aliases(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            called = dotted(node.func, aliases)
            if called in ("importlib.import_module", "importlib.__import__", "__import__", "builtins.__import__"):
                first = node.args[0] if node.args else None
                literal = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
                yield node, literal


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module ``source`` imports: absolute, relative (resolved against ``module``), and
    dynamic by a literal name. ``from a.b import c`` counts as ``a.b`` and ``a.b.c`` (c may
    be a module)."""
    tree = ast.parse(source)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = (node.module or "") if node.level == 0 else resolved(module, is_package, node.level, node.module)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    names.update(literal for _, literal in dynamic_import_calls(tree) if literal)
    names.discard("")
    return names


# --- the checkers ---------------------------------------------------------------------------
def direction_offences(source: str, module: str, is_package: bool = False) -> list[str]:
    package = module.split(".")[0]
    return sorted(
        f"{module} imports {name}"
        for name in imported_modules(source, module, is_package)
        if name.split(".")[0] in OURS and name.split(".")[0] not in ALLOWED[package]
    )


def impure_imports(source: str, module: str, is_package: bool = False) -> list[str]:
    return sorted(
        f"{module} imports {name}"
        for name in imported_modules(source, module, is_package)
        if name.split(".")[0] in NOT_IN_PURE_CODE
    )


def dynamic_imports(source: str) -> list[str]:
    """Each dynamic import: a call of ``import_module``/``__import__``, or ``importlib`` (or one
    of its modules but resources and metadata) imported at all."""
    tree = ast.parse(source)
    found = [f"line {call.lineno}: {ast.unparse(call.func)}()" for call, _ in dynamic_import_calls(tree)]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
        else:
            continue
        found += [
            f"line {lineno}: imports {name}"
            for lineno, name in modules
            if (name == "importlib" or name.startswith("importlib.")) and not name.startswith(tuple(NOT_DYNAMIC))
        ]
    return sorted(found)


def clock_readings(source: str) -> list[str]:
    """Every reference to a wall-clock function (called or passed on, e.g. as a default)."""
    tree = ast.parse(source)
    aliases = import_aliases(tree)
    return sorted(
        f"line {node.lineno}: {name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute | ast.Name)
        and (name := dotted(node, aliases)) in CLOCK_READINGS
    )


def rule_families() -> set[str]:
    """The subpackages of ``policies`` that hold rules (a module defining ``RULE_ID``)."""
    return {
        f"policies.{init.parent.name}"
        for init in (ROOT / "policies").glob("*/__init__.py")
        if any(defines(path.read_text(), "RULE_ID") for path in init.parent.rglob("*.py"))
    }


def defines(source: str, name: str) -> bool:
    return name in module_level_names(source)


def module_level_names(source: str) -> list[str]:
    names = []
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        names += [n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name)]
    return names


def rule_family_imports(source: str, module: str, families: set[str], is_package: bool = False) -> list[str]:
    if module.split(".")[0] == "policies":
        return []
    return sorted(
        f"{module} imports {name}"
        for name in imported_modules(source, module, is_package)
        if any(name == family or name.startswith(f"{family}.") for family in families)
    )


def bounds_defined_more_than_once(modules: dict[str, str]) -> dict[str, list[str]]:
    """Bound name -> the modules defining it, for each defined in more than one."""
    where: dict[str, list[str]] = {}
    for module, source in modules.items():
        for name in dict.fromkeys(module_level_names(source)):
            if BOUND.fullmatch(name):
                where.setdefault(name, []).append(module)
    return {name: found for name, found in sorted(where.items()) if len(found) > 1}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (each a circle of imports)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def import_graph(modules: dict[str, tuple[str, bool]]) -> dict[str, set[str]]:
    """Module -> the modules among ``modules`` it imports (at any depth of the file)."""
    return {
        module: {name for name in imported_modules(source, module, is_package) if name in modules and name != module}
        for module, (source, is_package) in modules.items()
    }


# --- the code as it is ----------------------------------------------------------------------
@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_packages_import_only_along_the_allowed_direction(package: str) -> None:
    offences = [o for _, source, module, is_package in sources(package)
                for o in direction_offences(source, module, is_package)]
    assert offences == []


@pytest.mark.parametrize("package", ["domain", "policies"])
def test_pure_packages_do_no_io_logging_or_clock_reading(package: str) -> None:
    offences = [o for _, source, module, is_package in sources(package)
                for o in impure_imports(source, module, is_package)]
    assert offences == []


def test_modules_are_imported_by_name_only_where_a_table_says_why() -> None:
    offences = [
        f"{path.relative_to(ROOT)} {found}"
        for path, source, _, _ in sources(*ALLOWED)
        if str(path.relative_to(ROOT)) not in ALLOWED_DYNAMIC_IMPORTS
        for found in dynamic_imports(source)
    ]
    assert offences == []


@pytest.mark.parametrize("package", ["domain", "policies", "projections"])
def test_only_ops_reads_the_clock(package: str) -> None:
    offences = [f"{path.relative_to(ROOT)} {found}" for path, source, _, _ in sources(package)
                for found in clock_readings(source)]
    assert offences == []


def test_rule_families_are_imported_by_policies_only() -> None:
    families = rule_families()
    assert {"policies.margin_financing", "policies.perpetuals", "policies.market_making",
            "policies.professional_investors"} <= families
    offences = [o for _, source, module, is_package in sources("domain", "projections", "ops")
                for o in rule_family_imports(source, module, families, is_package)]
    assert offences == []


def test_each_bound_is_defined_once() -> None:
    modules = {module: source for _, source, module, _ in sources(*ALLOWED)}
    assert bounds_defined_more_than_once(modules) == {}


def test_the_api_modules_import_no_circle() -> None:
    modules = {module: (source, is_package) for _, source, module, is_package in sources("ops")
               if module.startswith("ops.api")}
    assert import_cycles(import_graph(modules)) == []


# --- each checker catches a planted violation -----------------------------------------------
def test_a_relative_import_counts_as_an_import_of_its_resolved_module() -> None:
    assert imported_modules("from ..render import to_json", "ops.api.app") >= {"ops.render", "ops.render.to_json"}
    assert imported_modules("from . import deps", "ops.api", is_package=True) >= {"ops.api", "ops.api.deps"}
    assert imported_modules("from .deps import store_of", "ops.api.routes") >= {"ops.api.deps"}


def test_a_circle_through_a_relative_import_is_caught() -> None:
    modules = {
        "ops.api.app": ("from ops.api.routes import register", False),
        "ops.api.routes": ("def register():\n    from .app import outcome\n", False),
    }
    assert import_cycles(import_graph(modules)) == [["ops.api.app", "ops.api.routes"]]


def test_an_import_against_the_direction_is_caught_however_it_is_written() -> None:
    assert direction_offences("from ops.cli import app", "projections.x") == [
        "projections.x imports ops.cli", "projections.x imports ops.cli.app"]
    assert direction_offences("import importlib\nimportlib.import_module('ops.cli')", "domain.x") == [
        "domain.x imports ops.cli"]
    assert direction_offences("m = __import__('projections.store')", "policies.x") == [
        "policies.x imports projections.store"]


def test_a_dynamic_import_is_caught() -> None:
    assert dynamic_imports("from importlib import import_module\nimport_module(name)") == [
        "line 1: imports importlib.import_module", "line 2: import_module()"]
    assert dynamic_imports("import importlib as il\nil.import_module('x')") == [
        "line 1: imports importlib", "line 2: il.import_module()"]
    assert dynamic_imports("__import__(name)") == ["line 1: __import__()"]
    assert dynamic_imports("from importlib import resources\nfrom importlib.metadata import version") == []


def test_a_clock_reading_is_caught_however_it_is_imported() -> None:
    assert clock_readings("from datetime import UTC, datetime\nt = datetime.now(UTC)") == [
        "line 2: datetime.datetime.now"]
    assert clock_readings("import datetime as dt\nt = dt.datetime.utcnow()") == ["line 2: datetime.datetime.utcnow"]
    assert clock_readings("from datetime import date\nd = date.today()") == ["line 2: datetime.date.today"]
    assert clock_readings("import time\nt = time.time()") == ["line 2: time.time"]
    assert clock_readings("from time import time as now\nt = now()") == ["line 2: time.time"]
    assert clock_readings("from datetime import datetime\nclock = datetime.now") == ["line 2: datetime.datetime.now"]
    assert clock_readings("from datetime import datetime\nt = datetime.fromisoformat(s)") == []


def test_an_import_of_a_rule_family_outside_policies_is_caught() -> None:
    families = {"policies.margin_financing"}
    planted = "from policies.margin_financing.collateral import min_haircut"
    assert rule_family_imports(planted, "projections.monitor.statuses", families) == [
        "projections.monitor.statuses imports policies.margin_financing.collateral",
        "projections.monitor.statuses imports policies.margin_financing.collateral.min_haircut",
    ]
    assert rule_family_imports("from policies import margin_financing", "ops.x", families) == [
        "ops.x imports policies.margin_financing"]
    assert rule_family_imports(planted, "policies.registry", families) == []
    assert rule_family_imports("from policies.registry import RULES", "ops.x", families) == []


def test_a_bound_defined_twice_is_caught() -> None:
    modules = {"a": "PAGE_ROWS_MAX = 1_000\nRETRY_MIN_S, RETRY_MAX_S = 1, 2", "b": "PAGE_ROWS_MAX: int = 1_000",
               "c": "MIN_HAIRCUT = ('MF-05', 'min_haircut')\nRETRY_MAX_S = 3"}
    assert bounds_defined_more_than_once(modules) == {"PAGE_ROWS_MAX": ["a", "b"], "RETRY_MAX_S": ["a", "c"]}


# --- one class, one name --------------------------------------------------------------------
# A class name defined in two modules of the four packages reads as one thing in two places
# (STYLE.md). The names that must stay so, each with the modules defining it and why:
SHARED_CLASS_NAMES: dict[str, tuple[set[str], str]] = {
    "Dismissal": (
        {"domain.quarantine_decisions", "ops.api.routes"},
        "ops.api.routes' request body is public: /openapi.json names its schema after the class",
    ),
}


def class_names(source: str) -> list[str]:
    """Every class a module defines, a nested one by its qualified name (``Case.Created``)."""
    names: list[str] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                names.append(prefix + child.name)
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return names


def classes_defined_more_than_once(modules: dict[str, str]) -> dict[str, set[str]]:
    """Class name -> the modules defining it, for each defined in more than one."""
    where: dict[str, set[str]] = {}
    for module, source in modules.items():
        for name in class_names(source):
            where.setdefault(name, set()).add(module)
    return {name: found for name, found in sorted(where.items()) if len(found) > 1}


def test_no_class_name_is_defined_in_two_modules_but_the_listed_ones() -> None:
    modules = {module: source for _, source, module, _ in sources(*ALLOWED)}
    # Equal, not a subset: an entry no longer needed is taken off the list.
    assert classes_defined_more_than_once(modules) == {
        name: found for name, (found, _why) in SHARED_CLASS_NAMES.items()
    }


def test_a_class_defined_in_two_modules_is_caught_and_a_nested_one_by_its_qualified_name() -> None:
    modules = {
        "domain.book.entities": "class Client:\n    pass\nclass Case:\n    class Created:\n        pass",
        "ops.simulate.accounts": "from dataclasses import dataclass\n@dataclass\nclass Client:\n    client_id: str",
        "domain.cases.case": "class Created:\n    pass\nclass Other:\n    class Created:\n        pass",
    }
    assert class_names(modules["domain.cases.case"]) == ["Created", "Other", "Other.Created"]
    assert classes_defined_more_than_once(modules) == {"Client": {"domain.book.entities", "ops.simulate.accounts"}}
