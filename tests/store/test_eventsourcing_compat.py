"""The private eventsourcing methods the stores call (``projections.store.eventsourcing_compat``)
still exist, with the parameters the wrapper passes, on the installed eventsourcing; and no
module but the wrapper calls a private method of eventsourcing's classes."""

from __future__ import annotations

import ast
import inspect
from importlib.metadata import version
from pathlib import Path

import pytest

from projections.store import eventsourcing_compat as compat

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "policies", "projections", "ops")
PRIVATE_NAMES = {name for _, name in compat.PRIVATE_CALLS}
# How many arguments the wrapper passes each (after self): (cursor, tracking), (application,
# cursor), (cursor), (cursor).
ARGUMENTS = {"_insert_tracking": 2, "_max_tracking_id": 2, "_lock_table": 1, "_notify_channel": 1}


def test_the_installed_eventsourcing_is_the_version_the_wrapper_was_checked_against() -> None:
    installed = version("eventsourcing")
    assert installed.startswith(compat.CHECKED_VERSIONS + "."), installed


@pytest.mark.parametrize(("cls", "name"), compat.PRIVATE_CALLS, ids=lambda v: getattr(v, "__name__", v))
def test_each_private_method_the_wrapper_calls_exists_with_its_parameters(cls: type, name: str) -> None:
    method = getattr(cls, name, None)
    assert callable(method), f"{cls.__name__}.{name} is gone"
    parameters = list(inspect.signature(method).parameters)[1:]
    assert len(parameters) == ARGUMENTS[name], (cls.__name__, name, parameters)


def test_no_module_but_the_wrapper_calls_those_private_methods() -> None:
    callers = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "eventsourcing_compat.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Attribute) and node.attr in PRIVATE_NAMES:
                    callers.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.attr}")
    assert callers == []
