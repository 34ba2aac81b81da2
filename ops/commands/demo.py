"""``regledger demo``: everything working within a minute, on the embedded store.

Simulates a few days with every kind of breach injected, ingests them with a progress bar,
brings the monitor up to date and writes the nightly report of the last day."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from domain.errors import InvalidRequest
from ops.commands.api import DEFAULT_PORT
from ops.commands.core import SummaryFormat, ingest
from ops.commands.report import run_nightly
from ops.commands.simulate import days_bar
from ops.simulate import SimConfig, write_stream
from ops.wiring import open_store
from projections.store.base import FindingFilter

DEMO_CLIENTS = 150
DEMO_DAYS = 3
DEMO_SEED = 2026
DEMO_VIOLATIONS = 0.01
SEVERITIES = ("critical", "high", "medium", "low")


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        directory: Annotated[Path, typer.Option("--dir", help="where the demo's ledger, stream and report go")] = Path("regledger-demo"),
        force: Annotated[bool, typer.Option("--force", help="start again in a directory that already holds a demo")] = False,
    ) -> None:
        """Simulate three days, ingest them, run the monitor and write the last day's report."""
        ledger = directory / "regledger.db"
        if ledger.exists() and not force:
            raise InvalidRequest(f"{ledger} already holds a ledger; open {directory}/reports, or rerun with --force")
        directory.mkdir(parents=True, exist_ok=True)
        for stale in (ledger, ledger.with_name("regledger.db-wal"), ledger.with_name("regledger.db-shm")):
            stale.unlink(missing_ok=True)
        config = SimConfig(clients=DEMO_CLIENTS, days=DEMO_DAYS, seed=DEMO_SEED, violations=DEMO_VIOLATIONS)
        stream = directory / "events.jsonl"
        with days_bar(config.days) as on_day:
            events = write_stream(config, stream, on_day)
        typer.echo(f"simulated {events} events: {config.clients} clients over {config.days} days -> {stream}")
        url = f"sqlite:///{ledger}"
        _ingest(stream, url)
        last_day = config.start + timedelta(days=config.days - 1)
        report, page = run_nightly(url, last_day, directory / "reports", stale_days=7)
        _summarise(url, report, page)
        _next_steps(f"sqlite:///{ledger.resolve()}")


def _next_steps(url: str) -> None:
    """What to type next, with the demo's store spelled out (an absolute URL: it works from
    any directory), so that the demo's findings are one copy-paste away."""
    typer.echo("next:")
    for line in (
        f"regledger findings --db {url} --sort newest --limit 20",
        f"regledger findings --db {url} --subject C000101",
        f"regledger token create --db {url} --name alice --role officer",
        f"regledger serve --db {url}    # then open http://127.0.0.1:{DEFAULT_PORT}/console/findings",
    ):
        typer.echo(f"  {line}")


def _ingest(stream: Path, url: str) -> None:
    """Exactly ``regledger ingest``: validation, append, monitor, progress bar."""
    try:
        ingest([str(stream)], db=url, output=SummaryFormat.table, batch_size=1000)
    except typer.Exit as done:
        if done.exit_code:
            raise InvalidRequest(f"ingesting the simulated stream failed (exit {done.exit_code})") from None


def _summarise(url: str, report: dict[str, object], page: Path) -> None:
    store = open_store(url)
    try:
        rows = store.findings(FindingFilter())
    finally:
        store.close()
    by_severity = Counter(r.severity for r in rows)
    rules = len({r.rule_id for r in rows})
    summary = report["summary"]
    assert isinstance(summary, dict)
    ledger = report["ledger"]
    assert isinstance(ledger, dict)
    typer.echo(f"ledger: {ledger['events']} events; findings: {len(rows)}, of {rules} of the 26 rules: "
               + ", ".join(f"{by_severity[s]} {s}" for s in SEVERITIES))
    typer.echo(f"nightly report {report['date']}: {summary['new']} new findings, "
               f"{summary['critical_new']} critical, {summary['open']} open at the cut-off")
    typer.echo(f"open file://{page.resolve()}")
