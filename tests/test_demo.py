"""``regledger demo``, as the README's first command gives it: a few days simulated, ingested,
monitored and reported, within a minute, on the embedded store."""

from __future__ import annotations

import time
from pathlib import Path

from tests.test_cli import regledger


def test_the_demo_shows_every_rule_and_writes_the_last_days_report_within_a_minute(tmp_path: Path) -> None:
    directory = tmp_path / "regledger-demo"
    started = time.monotonic()
    done = regledger("demo", "--dir", str(directory))
    elapsed_s = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert elapsed_s < 60
    assert "26 of the 26 rules" in done.stdout
    page = directory / "reports" / "nightly-2026-03-04" / "index.html"
    assert f"open file://{page.resolve()}" in done.stdout
    assert page.exists() and (page.parent / "report.json").exists()
    # the next commands name the demo's store, and the first one works as printed, from anywhere
    url = f"sqlite:///{(directory / 'regledger.db').resolve()}"
    steps = [line.strip() for line in done.stdout.splitlines()[done.stdout.splitlines().index("next:") + 1:]]
    assert steps[0] == f"regledger findings --db {url} --sort newest --limit 20"
    assert f"regledger serve --db {url}" in steps[-1] and "/console/findings" in steps[-1]
    listed = regledger(*steps[0].split()[1:], "--format", "json")
    assert listed.returncode == 0 and listed.stdout.count('"finding_id"') == 20, listed.stderr
    again = regledger("demo", "--dir", str(directory))
    assert again.returncode == 2 and "--force" in again.stderr and "Traceback" not in again.stderr
    forced = regledger("demo", "--dir", str(directory), "--force")
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.splitlines()[-3:] == done.stdout.splitlines()[-3:]
