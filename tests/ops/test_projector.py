"""``regledger ingest`` with the projections in a second process (``ops.projector``): the same
findings, audit index and owners' filing as one process, every read model equal to its rebuild,
and a failure of the second process reported, never silent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ops.projector import ProjectorFailed, ProjectorProcess, worth_a_process
from ops.simulate import SimConfig, write_stream
from tests.conftest import SCENARIOS, fresh_store_url
from tests.test_cli import multiset, regledger

ALWAYS = {"REGLEDGER_INGEST_PROCESS_MIN_BYTES": "0"}
NEVER = {"REGLEDGER_INGEST_PROCESS_MIN_BYTES": str(10**15)}


PG = "postgresql://postgres@127.0.0.1/x"


def test_a_second_process_only_for_a_large_file_on_two_cores_and_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert worth_a_process(PG, 1000, 1000)  # at the threshold
    assert worth_a_process(PG, 1001, 1000)
    assert not worth_a_process(PG, 999, 1000)
    assert not worth_a_process(PG, None, 0)  # standard input: its size is not known
    assert not worth_a_process("sqlite:///x.db", 10**9, 0)  # one writer at a time
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert not worth_a_process(PG, 10**9, 0)


def audit_rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    from ops.wiring import open_store
    from projections.evidence.drift import stored_rows
    from projections.rebuild.models import READ_MODELS

    tables = {t.name: t for m in READ_MODELS for t in m.tables}
    store = open_store(url)
    try:
        return {name: stored_rows(store, tables[name]) for name in ("audit_subjects", "audit_owners")}
    finally:
        store.close()


@pytest.mark.postgres
def test_two_processes_give_what_one_gives_and_every_model_equals_its_rebuild(tmp_path: Path) -> None:
    kind = "postgresql"
    stream = tmp_path / "sim.jsonl"
    events = write_stream(SimConfig(clients=15, days=2, seed=5, violations=0.05), stream)
    with fresh_store_url(kind, tmp_path / "one") as one, fresh_store_url(kind, tmp_path / "two") as two:
        first = regledger("ingest", str(stream), "--format", "json", db=one, env=NEVER)
        second = regledger("ingest", str(stream), "--format", "json", db=two, env=ALWAYS)
        for done in (first, second):
            assert done.returncode == 0, done.stderr
            assert json.loads(done.stdout.splitlines()[-1]) == {"accepted": events, "duplicates": 0, "rejected": 0}
        found = [json.loads(regledger("findings", "--format", "json", db=url).stdout) for url in (one, two)]
        assert found[0], "the stream has violations: a comparison of no findings proves nothing"
        assert multiset(found[1]) == multiset(found[0])
        assert [(f["rule_id"], f["event_id"], f["subject"], f["message"]) for f in found[1]] == [
            (f["rule_id"], f["event_id"], f["subject"], f["message"]) for f in found[0]
        ]  # and in the same detection order
        assert audit_rows(two) == audit_rows(one)
        verified = regledger("verify", "--projections", "--format", "json", db=two)
        assert verified.returncode == 0, verified.stdout + verified.stderr


@pytest.mark.postgres
@pytest.mark.parametrize("name", ["mm-day"])
def test_scenarios_through_the_second_process(postgres_url: str, name: str) -> None:
    done = regledger("ingest", str(SCENARIOS / f"{name}.jsonl"), "--format", "json", db=postgres_url, env=ALWAYS)
    assert done.returncode == 0, done.stderr
    got = json.loads(regledger("findings", "--format", "json", db=postgres_url).stdout)
    assert multiset(got) == multiset(json.loads((SCENARIOS / f"{name}.expected.json").read_text()))


@pytest.mark.parametrize("ended_first", [False, True])
def test_a_process_that_cannot_reach_its_store_says_why(ended_first: bool) -> None:
    projector = ProjectorProcess("postgresql://postgres@127.0.0.1:1/unreachable")
    if ended_first:  # it failed and ended before ingest finished: its answer waits in the pipe
        projector._process.join(timeout=60)
        assert projector._process.exitcode == 0
    with pytest.raises(ProjectorFailed, match="the projections' process failed: cannot reach PostgreSQL"):
        projector.finish(0)


@pytest.mark.postgres
def test_ingest_reports_a_failed_second_process_and_keeps_the_events(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ops import cli
    from ops.commands import core

    class Failing:
        def __init__(self, url: str) -> None:
            pass

        def finish(self, position: int) -> None:
            raise ProjectorFailed("the projections' process failed: disk full")

        def stop(self) -> None:
            raise AssertionError("a finished process is not stopped again")

    monkeypatch.setattr(core, "ProjectorProcess", Failing)
    monkeypatch.setenv("REGLEDGER_INGEST_PROCESS_MIN_BYTES", "0")
    result = CliRunner().invoke(cli.app, ["ingest", str(SCENARIOS / "mf-day.jsonl"), "--db", postgres_url])
    assert result.exit_code == 2
    assert "disk full" in result.output and "regledger monitor" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    monitored = regledger("monitor", db=postgres_url)
    assert monitored.returncode == 0, monitored.stderr  # the events are stored: the monitor resumes
    got = json.loads(regledger("findings", "--format", "json", db=postgres_url).stdout)
    assert multiset(got) == multiset(json.loads((SCENARIOS / "mf-day.expected.json").read_text()))
