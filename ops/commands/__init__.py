"""Command groups beyond the core ones in ``ops.cli``: each module here defines
``register(app: typer.Typer) -> None`` and is registered, in name order, by ``ops.cli``."""

from __future__ import annotations

import importlib
import pkgutil

import typer


def register_all(app: typer.Typer) -> None:
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        importlib.import_module(f"{__name__}.{module}").register(app)
