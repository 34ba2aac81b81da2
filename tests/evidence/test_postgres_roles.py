"""ops/postgres_roles.sql applied to a fresh database: the ingest role appends (the real CLI
ingests through it) but cannot update, delete, truncate or get past the triggers; the
regulator role reads, verifies and replays, and cannot write anything."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg.sql import SQL, Identifier

from projections.sessions import ConsoleSessions, SessionLimits
from projections.store import open_store
from projections.tokens import TokenStore
from tests.api.conftest import console_login, csrf_in, started
from tests.conftest import PG_ADMIN_URL, SCENARIOS

pytestmark = pytest.mark.postgres
ROLES_SQL = Path(__file__).resolve().parents[2] / "ops" / "postgres_roles.sql"


def as_user(url: str, user: str) -> str:
    return url.replace("postgresql://postgres@", f"postgresql://{user}@", 1)


@pytest.fixture
def roles(postgres_url: str) -> Iterator[tuple[str, str]]:
    """The URLs of an ingest login and a regulator login, after the SQL file was applied."""
    open_store(postgres_url, create=True).close()
    with psycopg.connect(postgres_url, autocommit=True) as owner:
        owner.execute(ROLES_SQL.read_text())  # type: ignore[call-overload]  # a script of literal SQL
    suffix = uuid.uuid4().hex[:10]
    logins = {"regledger_ingest": f"regledger_t_in_{suffix}", "regledger_regulator": f"regledger_t_re_{suffix}"}
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        for group, login in logins.items():
            admin.execute(SQL("CREATE ROLE {} LOGIN IN ROLE {}").format(Identifier(login), Identifier(group)))
    try:
        yield as_user(postgres_url, logins["regledger_ingest"]), as_user(postgres_url, logins["regledger_regulator"])
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as owner:
            owner.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                          " WHERE usename = ANY(%s)", (list(logins.values()),))
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            for login in logins.values():
                admin.execute(SQL("DROP ROLE IF EXISTS {}").format(Identifier(login)))


def refusal(url: str, statement: str) -> str:
    """The first line of the error PostgreSQL raises for ``statement`` (it must raise)."""
    with psycopg.connect(url) as conn, pytest.raises(psycopg.Error) as refused:
        conn.execute(statement)  # type: ignore[call-overload]  # literal SQL under test
    return str(refused.value).splitlines()[0]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ops", *args], capture_output=True, text=True, timeout=300, check=False)


def test_the_ingest_role_appends_but_never_changes_a_ledger_row(roles: tuple[str, str]) -> None:
    ingest, _ = roles
    done = cli("ingest", str(SCENARIOS / "mf-day.jsonl"), "--db", ingest, "--format", "json")
    assert done.returncode == 0, done.stderr
    assert refusal(ingest, "UPDATE ledger_events SET topic = 'x'") == "ledger_events is append-only"
    assert refusal(ingest, "DELETE FROM ledger_events") == "permission denied for table ledger_events"
    assert refusal(ingest, "TRUNCATE ledger_events") == "permission denied for table ledger_events"
    assert refusal(ingest, "ALTER TABLE ledger_events DISABLE TRIGGER ALL") == "must be owner of table ledger_events"
    assert refusal(ingest, "DROP TRIGGER ledger_events_append_only ON ledger_events") == "must be owner of relation ledger_events"
    assert refusal(ingest, "SET session_replication_role = replica") == (
        'permission denied to set parameter "session_replication_role"'
    )


def test_the_regulator_role_reads_verifies_and_replays_but_cannot_write(roles: tuple[str, str]) -> None:
    ingest, regulator = roles
    assert cli("ingest", str(SCENARIOS / "mf-day.jsonl"), "--db", ingest).returncode == 0
    verified = cli("verify", "--projections", "--db", regulator)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    replayed = cli("replay", "--db", regulator, "--format", "json", "--set", "MF-05.min_haircut=0.7")
    assert replayed.returncode == 0, replayed.stderr
    # a client's everything, filed by owner as ingest went (the regulator writes nothing)
    listed = cli("findings", "--subject", "C1", "--format", "json", "--db", regulator)
    assert listed.returncode == 0, listed.stderr
    assert sorted(f["subject"] for f in json.loads(listed.stdout)) == ["C1", "P1"]
    for statement in (
        "INSERT INTO ledger_events SELECT * FROM ledger_events LIMIT 1",
        "UPDATE ledger_events SET topic = 'x'",
        "DELETE FROM ledger_events",
        "DELETE FROM findings",
        "UPDATE monitor_state SET state = '{}'",
        "INSERT INTO quarantine (received_at, origin, reasons, raw) VALUES (now(), 'x', '[]', '')",
    ):
        assert refusal(regulator, statement).startswith("permission denied for table"), statement


def test_even_the_owner_cannot_truncate_update_or_delete_ledger_rows_past_the_triggers(postgres_url: str) -> None:
    store = open_store(postgres_url, create=True)
    store.close()
    for statement in ("TRUNCATE ledger_events", "UPDATE ledger_events SET topic = 'x'", "DELETE FROM ledger_events"):
        with psycopg.connect(postgres_url) as conn:
            conn.execute("INSERT INTO ledger_events VALUES ('e', 1, 't', '\\x00', 1, now(), '\\x00')"
                         " ON CONFLICT DO NOTHING")
            conn.commit()
        assert refusal(postgres_url, statement) == "ledger_events is append-only", statement


@pytest.fixture
def server_login(roles: tuple[str, str], postgres_url: str) -> Iterator[str]:
    """The URL of a login for `regledger token` and `serve`: in regledger_tokens and
    regledger_ingest (the server ingests too)."""
    login = f"regledger_t_to_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(SQL("CREATE ROLE {} LOGIN IN ROLE regledger_tokens, regledger_ingest").format(Identifier(login)))
    try:
        yield as_user(postgres_url, login)
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as owner:
            owner.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (login,))
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(SQL("DROP ROLE IF EXISTS {}").format(Identifier(login)))


def test_the_ingest_role_can_neither_forge_nor_read_a_token_or_a_console_session(roles: tuple[str, str]) -> None:
    ingest, regulator = roles
    for statement in (
        "INSERT INTO api_tokens (token_hash, name, role, created_at) VALUES ('forged', 'forged', 'admin', now())",
        "UPDATE api_tokens SET role = 'admin'",
        "UPDATE api_tokens SET revoked_at = NULL",
        "DELETE FROM api_tokens",
        "SELECT token_hash FROM api_tokens",
        "INSERT INTO console_sessions VALUES ('forged', 'forged', now(), now(), NULL)",
        "UPDATE console_sessions SET closed_at = NULL",
        "SELECT session_hash FROM console_sessions",
    ):
        assert refusal(ingest, statement).startswith("permission denied for table"), statement
    for statement in ("INSERT INTO api_tokens (token_hash, name, role, created_at) VALUES ('f', 'f', 'admin', now())",
                      "SELECT session_hash FROM console_sessions"):
        assert refusal(regulator, statement).startswith("permission denied for table"), statement


def test_the_admin_path_creates_lists_and_revokes_tokens_and_the_server_opens_sessions(server_login: str) -> None:
    created = cli("token", "create", "--name", "ops:alice", "--role", "officer", "--db", server_login)
    assert created.returncode == 0, created.stderr
    listed = cli("token", "list", "--db", server_login)
    assert listed.returncode == 0 and "ops:alice" in listed.stdout, listed.stderr
    store = open_store(server_login)
    try:
        sessions = ConsoleSessions(store, SessionLimits(timedelta(hours=8), timedelta(hours=12)))
        session_id = sessions.open(created.stdout.strip(), datetime.now(UTC))
        assert session_id is not None and sessions.resume(session_id, datetime.now(UTC)) is not None
    finally:
        store.close()
    assert cli("token", "revoke", "--name", "ops:alice", "--db", server_login).returncode == 0
    store = open_store(server_login)
    try:
        assert ConsoleSessions(store, SessionLimits(timedelta(hours=8), timedelta(hours=12))).resume(
            session_id, datetime.now(UTC)) is None
    finally:
        store.close()


def test_the_server_runs_under_an_ingest_and_tokens_login_ingests_and_works_cases_in_the_console(server_login: str) -> None:
    store = open_store(server_login)
    try:
        tokens = {role: TokenStore(store).create(f"svc-{role}", role, datetime.now(UTC)) for role in ("ingest", "officer")}
    finally:
        store.close()
    server = started(server_login, tokens)
    live = next(server)
    try:
        with live.client("ingest") as api:
            assert api.post("/v1/events", content=(SCENARIOS / "mf-day.jsonl").read_bytes()).status_code == 200
        with live.client("officer") as api:
            finding_id = api.get("/v1/findings").json()[0]["finding_id"]
        with httpx.Client(base_url=live.url, follow_redirects=False) as console:
            assert console_login(console, tokens["officer"]).status_code == 303
            csrf = csrf_in(console.get(f"/console/findings/{finding_id}").text)
            acted = console.post(f"/console/findings/{finding_id}/case", data={"action": "acknowledge", "csrf": csrf})
            assert acted.status_code == 303
    finally:
        next(server, None)


def test_the_ingest_role_appends_to_the_quarantine_but_never_changes_a_row_of_it(roles: tuple[str, str], tmp_path: Path) -> None:
    ingest, regulator = roles
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"event_id": "x1"}\n{not json\n')
    assert cli("ingest", str(bad), "--db", ingest).returncode == 1
    dismissed = cli("quarantine", "dismiss", "2", "--actor", "alice", "--reason", "noise", "--db", ingest)
    assert dismissed.returncode == 0, dismissed.stderr
    for table in ("quarantine", "quarantine_links"):
        assert refusal(ingest, f"UPDATE {table} SET id = id") == f"{table} is append-only"
        assert refusal(ingest, f"DELETE FROM {table}") == f"permission denied for table {table}"
        assert refusal(ingest, f"TRUNCATE {table}") == f"permission denied for table {table}"
        assert refusal(regulator, f"LOCK TABLE {table} IN EXCLUSIVE MODE").startswith("permission denied")
    verified = cli("verify", "--db", regulator, "--format", "json")
    assert verified.returncode == 0, verified.stdout
