"""The stable command-line contract of cli.md, run as a user runs it: a real process."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SCENARIO_NAMES, SCENARIOS


def regledger(*args: str, stdin: bytes | None = None, db: str | None = None,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ops", *args]
    if db is not None:
        command += ["--db", db]
    return subprocess.run(
        command, input=stdin.decode() if stdin is not None else None,
        capture_output=True, text=True, timeout=120, check=False,
        env=None if env is None else {**os.environ, **env},
    )


def multiset(findings: list[dict[str, str]]) -> collections.Counter[tuple[str, str, str]]:
    return collections.Counter((f["rule_id"], f["event_id"], f["subject"]) for f in findings)


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_ingest_then_findings_gives_each_scenarios_expected_findings(store_url: str, name: str) -> None:
    done = regledger("ingest", str(SCENARIOS / f"{name}.jsonl"), "--format", "json", db=store_url)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "accepted": json.loads((SCENARIOS / f"{name}.rejects.json").read_text())["accepted"],
        "duplicates": 0, "rejected": 0,
    }
    listed = regledger("findings", "--format", "json", db=store_url)
    assert listed.returncode == 0, listed.stderr
    got = json.loads(listed.stdout)
    expected = json.loads((SCENARIOS / f"{name}.expected.json").read_text())
    assert multiset(got) == multiset(expected)
    for finding in got:
        assert {"finding_id", "rule_id", "severity", "event_id", "subject", "occurred_at",
                "detected_at", "message", "parameters"} <= finding.keys()


def indexed_to_the_tip(url: str) -> bool:
    from ops.wiring import build_audit_index, open_store

    store = open_store(url)
    try:
        return bool(build_audit_index(store).storage.tracked_position() == store.tip().position)
    finally:
        store.close()


def test_ingest_without_the_monitor_leaves_it_to_a_follower_beside(store_url: str) -> None:
    import time

    name = "perp-day"
    done = regledger("ingest", str(SCENARIOS / f"{name}.jsonl"), "--no-monitor", db=store_url)
    assert done.returncode == 0, done.stderr
    assert json.loads(regledger("findings", "--format", "json", db=store_url).stdout) == []
    follower = subprocess.Popen([sys.executable, "-m", "ops", "monitor", "--follow", "--db", store_url],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        expected = multiset(json.loads((SCENARIOS / f"{name}.expected.json").read_text()))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            got = multiset(json.loads(regledger("findings", "--format", "json", db=store_url).stdout))
            if got == expected and indexed_to_the_tip(store_url):
                break
            time.sleep(0.2)
        assert got == expected
        assert indexed_to_the_tip(store_url)  # the audit index follows too, slice by slice
    finally:
        follower.terminate()
        follower.wait(timeout=30)


def test_rejections_go_to_stderr_with_line_and_field_and_exit_code_1(sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = (SCENARIOS / "mf-day.jsonl").read_text().splitlines()[0]
    path.write_text(good + "\n" + '{"event_id": "x1", "type": "PriceObserved", "occurred_at": "2026-03-02T09:00:00", "data": {"asset": "BTC", "price": 1.5, "price_source": "f"}}\n')
    done = regledger("ingest", str(path), "--format", "json", db=sqlite_url)
    assert done.returncode == 1
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"accepted": 1, "duplicates": 0, "rejected": 1}
    assert "line 2" in done.stderr and "x1" in done.stderr
    assert "occurred_at" in done.stderr and "data.price" in done.stderr
    assert "Traceback" not in done.stderr
    listed = regledger("quarantine", "list", "--format", "json", db=sqlite_url)
    [row] = json.loads(listed.stdout)
    assert row["line"] == 2 and row["event_id"] == "x1" and "1.5" in row["raw"]


def test_standard_input_is_read_with_dash(sqlite_url: str) -> None:
    done = regledger("ingest", "-", "--format", "json", stdin=(SCENARIOS / "mm-day.jsonl").read_bytes(), db=sqlite_url)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["accepted"] == 40


def test_a_missing_input_file_is_exit_code_2_and_nothing_is_ingested(sqlite_url: str, tmp_path: Path) -> None:
    done = regledger("ingest", str(SCENARIOS / "mf-day.jsonl"), str(tmp_path / "nope.jsonl"), db=sqlite_url)
    assert done.returncode == 2
    assert "nope.jsonl" in done.stderr and "Traceback" not in done.stderr
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()


def test_an_unreachable_postgresql_is_one_line_and_exit_code_2() -> None:
    done = regledger("findings", db="postgresql://nobody@127.0.0.1:1/none")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "PostgreSQL" in done.stderr


def test_check_reports_what_an_event_would_raise_and_stores_nothing(sqlite_url: str) -> None:
    regledger("ingest", str(SCENARIOS / "perp-day.jsonl"), db=sqlite_url)
    proposed = {
        "event_id": "proposed-1", "type": "PerpOrderPlaced", "occurred_at": "2026-03-02T09:30:00+08:00",
        "data": {"order_id": "O-new", "client_id": "R1", "contract_id": "BTC-PERP", "side": "buy",
                 "quantity": "1", "limit_price": "500000", "market_maker": False},
    }
    done = regledger("check", "-", stdin=json.dumps(proposed).encode(), db=sqlite_url)
    assert done.returncode == 3, done.stderr
    found = json.loads(done.stdout)
    assert "PI-01" in {f["rule_id"] for f in found}
    listed = json.loads(regledger("findings", "--format", "json", "--rule", "PI-01", db=sqlite_url).stdout)
    assert "proposed-1" not in {f["event_id"] for f in listed}
    # one renderer: a proposed finding has the keys and the time zone of a recorded one
    case_columns = {"case_status", "assignee", "age_s"}
    assert listed and all(set(f) == set(listed[0]) - case_columns for f in found)
    assert all(f["occurred_at"].endswith("+08:00") and f["detected_at"].endswith("+08:00") for f in found)


def test_a_database_password_never_reaches_the_output_or_the_logs() -> None:
    secret = "s3cr3t-Pa55word"
    done = subprocess.run(
        [sys.executable, "-m", "ops", "findings", "--db", f"postgresql://auditor:{secret}@127.0.0.1:1/none"],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "REGLEDGER_LOG_LEVEL": "debug", "REGLEDGER_LOG_FORMAT": "json"},
    )
    assert done.returncode == 2
    assert secret not in done.stderr and secret not in done.stdout


def test_a_progress_bar_shows_on_a_terminal_and_nothing_extra_when_piped(tmp_path: Path) -> None:
    import pty

    stream = SCENARIOS / "mf-day.jsonl"
    piped = regledger("ingest", str(stream), db=f"sqlite:///{tmp_path / 'piped.db'}")
    assert piped.returncode == 0 and piped.stderr == ""
    assert piped.stdout.strip() == "accepted 38, duplicates 0, rejected 0; ledger position 38"
    pid, fd = pty.fork()
    if pid == 0:  # the child: regledger on a terminal
        os.execv(sys.executable, [sys.executable, "-m", "ops", "ingest", str(stream), "--db", f"sqlite:///{tmp_path / 'tty.db'}"])
    seen = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.waitpid(pid, 0)
    assert b"ingesting" in seen and b"accepted 38" in seen


def test_every_finding_is_logged_as_structured_json_for_log_pipelines(sqlite_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ops", "ingest", str(SCENARIOS / "mm-day.jsonl"), "--db", sqlite_url],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "REGLEDGER_LOG_LEVEL": "info", "REGLEDGER_LOG_FORMAT": "json"},
    )
    assert done.returncode == 0, done.stderr
    logged = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    recorded = [(x["rule_id"], x["event_id"], x["subject"]) for x in logged if x.get("event") == "finding_recorded"]
    expected = json.loads((SCENARIOS / "mm-day.expected.json").read_text())
    assert collections.Counter(recorded) == multiset(expected)
    assert all({"timestamp", "level", "finding_id", "severity"} <= x.keys() for x in logged if x.get("event") == "finding_recorded")
