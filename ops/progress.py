"""Progress bars for long work, on a terminal only: nothing extra when output is piped."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


@contextmanager
def bytes_bar(label: str, total: int | None) -> Iterator[Callable[[int], None] | None]:
    if not sys.stderr.isatty():
        yield None
        return
    columns = (TextColumn(label), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


@contextmanager
def spinner(label: str) -> Iterator[None]:
    """Work whose size is not known ahead, shown as it goes (on a terminal only)."""
    if not sys.stderr.isatty():
        yield
        return
    with Progress(SpinnerColumn(), TextColumn(label), TimeElapsedColumn(), transient=True, console=Console(stderr=True)) as bar:
        bar.add_task(label, total=None)
        yield
