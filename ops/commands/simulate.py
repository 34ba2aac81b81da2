"""``regledger simulate``: write a realistic, deterministic event stream to a file."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from domain.errors import InvalidRequest
from ops.simulate import SimConfig, write_stream
from ops.simulate.config import CLIENTS_MAX, DAYS_MAX, DEFAULT_START


@contextmanager
def days_bar(days: int) -> Iterator[Callable[[int, int], None] | None]:
    """A bar of simulated days, on a terminal only."""
    if not sys.stderr.isatty():
        yield None
        return
    columns = (TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TextColumn("days, {task.fields[events]:,} events"))
    with Progress(*columns, transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task("simulating", total=days, events=0)
        yield lambda day, events: bar.update(task, completed=day, events=events)


def parse_start(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"--start: {value!r} is not a date (YYYY-MM-DD)") from None


def register(app: typer.Typer) -> None:
    @app.command()
    def simulate(
        out: Annotated[Path, typer.Option("--out", help="the JSON Lines file to write")],
        clients: Annotated[int, typer.Option(help="clients to onboard", min=1, max=CLIENTS_MAX)] = 200,
        days: Annotated[int, typer.Option(help="Hong Kong days to simulate", min=1, max=DAYS_MAX)] = 3,
        seed: Annotated[int, typer.Option(help="the run's only source of chance")] = 1,
        violations: Annotated[float, typer.Option(
            help="rate of injected breaches: every rule once on day one, then each rule again "
            "with this probability every simulated hour (0: a clean run that raises no finding)",
            min=0.0, max=1.0)] = 0.0,
        start: Annotated[str, typer.Option(help="first day simulated (YYYY-MM-DD), from 00:00 HKT")] = DEFAULT_START.isoformat(),
        shock_day: Annotated[int | None, typer.Option(help="day index of the price shock (default: the middle)")] = None,
    ) -> None:
        """Simulate a broker and platform: events valid under events.md, in time order."""
        config = SimConfig(clients=clients, days=days, seed=seed, violations=violations,
                           start=parse_start(start), shock_day=shock_day)
        if out.is_dir():
            raise InvalidRequest(f"--out {out}: is a directory")
        out.parent.mkdir(parents=True, exist_ok=True)
        with days_bar(days) as on_day:
            written = write_stream(config, out, on_day)
        typer.echo(f"wrote {written} events ({clients} clients, {days} days, seed {seed}) to {out}")
