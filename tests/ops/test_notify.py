"""Critical findings reach people: a signed webhook and an e-mail, each finding once per
channel across a restart of the notifier, retried with back-off, on both stores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ops.notify import Email, Notifier, Webhook, signature
from projections.notify import BACKOFF_MAX_S, Outbox, backoff
from projections.sql import Sql
from projections.store.base import FindingFilter, Store
from tests.audit.helpers import ingest, lines_of
from tests.conftest import SCENARIOS
from tests.ops.receivers import Received, http_receiver, smtp_receiver

T0 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
SECRET = "s3cret"
CRITICAL = frozenset({"critical"})


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Killed(BaseException):
    """The process dying: nothing after it runs."""


class DiesBeforeMarking(Notifier):
    def sent(self, delivery):  # type: ignore[no-untyped-def]  # the parent's signature
        raise Killed(delivery.finding_id)


@pytest.fixture
def receivers() -> Iterator[tuple[str, Received, int, list]]:  # type: ignore[type-arg]  # email.Message list
    with http_receiver() as (url, hooks), smtp_receiver() as (port, mails):
        yield url, hooks, port, mails


def channels(url: str, port: int) -> list:  # type: ignore[type-arg]  # Channel protocol
    return [Webhook(url, SECRET), Email("127.0.0.1", port, "regledger@test", ("duty@test",))]


def critical_ids(store: Store) -> list[str]:
    return [r.finding_id for r in store.findings(FindingFilter()) if r.severity == "critical"]


def test_each_critical_finding_arrives_once_by_webhook_and_by_email_signed(store: Store, receivers) -> None:  # type: ignore[no-untyped-def]
    url, hooks, port, mails = receivers
    ingest(store, lines_of("mf-day"))
    wanted = critical_ids(store)
    assert len(wanted) == 2 and len(store.findings(FindingFilter())) == 6  # the others are not critical
    notifier = Notifier(store, channels(url, port), CRITICAL, Clock())
    done = notifier.run_once()
    assert (done.queued, done.sent, done.failed) == (4, 4, 0)
    assert notifier.run_once() == type(done)(0, 0, 0)  # nothing twice
    assert [json.loads(body)["finding_id"] for _, body in hooks.raw] == wanted
    for headers, body in hooks.raw:
        assert headers["X-Regledger-Signature"] == signature(SECRET, headers["X-Regledger-Timestamp"], body)
        assert headers["X-Regledger-Signature"] != signature("wrong", headers["X-Regledger-Timestamp"], body)
        assert headers["Idempotency-Key"] == json.loads(body)["finding_id"]
        assert headers["X-Regledger-Timestamp"] == str(int(T0.timestamp()))
    assert [m["Message-ID"] for m in mails] == [f"<{f}@regledger>" for f in wanted]
    assert all(m["To"] == "duty@test" and m["Subject"].startswith("[regledger] critical ") for m in mails)
    assert [r["sent_at"] for r in Outbox(store).rows()] == [T0.isoformat()] * 4


def test_a_notifier_killed_between_send_and_mark_resends_with_the_same_key_and_a_receiver_keeps_one(store: Store, receivers) -> None:  # type: ignore[no-untyped-def]
    url, hooks, port, mails = receivers
    ingest(store, lines_of("mf-day"))
    wanted = critical_ids(store)
    with pytest.raises(Killed):
        DiesBeforeMarking(store, channels(url, port), CRITICAL, Clock()).run_once()
    assert len(hooks.raw) + len(mails) == 1  # the first send arrived; its mark was never written
    restarted = Notifier(store, channels(url, port), CRITICAL, Clock())
    assert restarted.run_once().sent == 4
    # The receivers saw the interrupted one twice, with the same key and the same signed body ...
    arrived = [h["Idempotency-Key"] for h, _ in hooks.raw] + [m["Message-ID"] for m in mails]
    assert len(arrived) == 5
    # ... and de-duplicating by it leaves each finding exactly once per channel.
    assert sorted(hooks.unique("Idempotency-Key")) == sorted(wanted)
    assert sorted({m["Message-ID"] for m in mails}) == sorted(f"<{f}@regledger>" for f in wanted)
    # A second restart, after every mark, sends nothing at all.
    Notifier(store, channels(url, port), CRITICAL, Clock()).run_once()
    assert len(hooks.raw) + len(mails) == 5


def test_a_refused_webhook_is_retried_after_its_back_off_and_not_before(store: Store, receivers) -> None:  # type: ignore[no-untyped-def]
    url, hooks, port, mails = receivers
    ingest(store, lines_of("mf-day"))
    hooks.statuses.extend([503, 500])
    clock = Clock()
    notifier = Notifier(store, [Webhook(url, SECRET)], CRITICAL, clock)
    assert notifier.run_once().failed == 2  # both critical findings refused once
    [first, second] = Outbox(store).rows()
    assert (first["attempts"], first["next_attempt_at"], first["last_error"]) == (
        1, (T0 + timedelta(seconds=2)).isoformat(), "the webhook answered 503")
    clock.now = T0 + timedelta(seconds=1, microseconds=999_999)  # just before the back-off ends
    assert notifier.run_once().sent == 0 and hooks.raw == []
    clock.now = T0 + timedelta(seconds=2)  # at it
    assert notifier.run_once().sent == 2
    assert len(hooks.raw) == 2 and [r["attempts"] for r in Outbox(store).rows()] == [2, 2]


def test_an_unreachable_mail_server_is_retried_and_the_mail_arrives_once_it_is_up(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    clock = Clock()
    with smtp_receiver() as (port, mails):
        pass  # the port is free again: nothing listens there now
    down = Notifier(store, [Email("127.0.0.1", port, "regledger@test", ("duty@test",))], CRITICAL, clock)
    assert down.run_once().failed == 2
    assert all("could not be reached" in r["last_error"] for r in Outbox(store).rows())
    with smtp_receiver() as (port, mails):
        clock.now = T0 + timedelta(seconds=2)
        up = Notifier(store, [Email("127.0.0.1", port, "regledger@test", ("duty@test",))], CRITICAL, clock)
        assert up.run_once().sent == 2
    assert len(mails) == 2


@pytest.mark.parametrize(("attempts", "seconds"), [(1, 2), (2, 4), (3, 8), (9, 512), (10, BACKOFF_MAX_S), (11, BACKOFF_MAX_S), (10_000, BACKOFF_MAX_S)])
def test_the_back_off_doubles_from_two_seconds_up_to_fifteen_minutes(attempts: int, seconds: int) -> None:
    assert backoff(attempts) == timedelta(seconds=seconds)


def test_findings_rebuilt_below_the_tracked_position_are_not_sent_again(store: Store, receivers) -> None:  # type: ignore[no-untyped-def]
    url, hooks, port, mails = receivers
    ingest(store, lines_of("mf-day"))
    notifier = Notifier(store, [Webhook(url, SECRET)], CRITICAL, Clock())
    assert notifier.run_once().sent == 2
    with Sql(store).writing() as c:  # as if the findings had been rebuilt with fresh numbers
        c.execute("UPDATE notify_positions SET seq = 1000000")
    assert notifier.run_once() == type(notifier.run_once())(0, 0, 0)
    assert len(hooks.raw) == 2
    assert Sql(store).rows("SELECT seq FROM notify_positions") == [(6,)]  # back to the real end


def test_the_notify_command_sends_from_the_settings_and_refuses_to_run_without_a_channel(store_url: str) -> None:
    from tests.test_cli import regledger

    assert regledger("ingest", str(SCENARIOS / "mf-day.jsonl"), db=store_url).returncode == 0
    none = regledger("notify", db=store_url)
    assert none.returncode == 2 and "no notification channel is configured" in none.stderr
    unsigned = regledger("notify", db=store_url, env={"REGLEDGER_NOTIFY_WEBHOOK_URL": "http://127.0.0.1:9/x"})
    assert unsigned.returncode == 2 and "REGLEDGER_NOTIFY_WEBHOOK_SECRET is not" in unsigned.stderr
    with http_receiver() as (url, hooks), smtp_receiver() as (port, mails):
        env = {"REGLEDGER_NOTIFY_WEBHOOK_URL": url, "REGLEDGER_NOTIFY_WEBHOOK_SECRET": SECRET,
               "REGLEDGER_NOTIFY_SMTP_HOST": "127.0.0.1", "REGLEDGER_NOTIFY_SMTP_PORT": str(port),
               "REGLEDGER_NOTIFY_SMTP_TO": "duty@test"}
        first = regledger("notify", db=store_url, env=env)
        assert first.stdout == "notify: 4 queued, 4 sent, 0 failed (retried later)\n", first.stderr
        assert regledger("notify", db=store_url, env=env).stdout == "notify: 0 queued, 0 sent, 0 failed (retried later)\n"
    assert (len(hooks.raw), len(mails)) == (2, 2)
    status = json.loads(regledger("notify", "--status", db=store_url).stdout)
    assert [(r["channel"], r["sent_at"] is not None) for r in status] == [("email", True), ("webhook", True)] * 2


NOTIFY_WAIT_S = 60


def test_a_notifier_process_killed_after_the_receiver_got_a_webhook_but_before_the_answer_resends_it_once_on_restart(
        store_url: str, tmp_path: Path) -> None:
    """A real crash between send and mark: the receiver kills the ``notify --follow`` process
    (SIGKILL) as soon as the first webhook has arrived, before answering it; the restarted
    process sends that finding again with the same idempotency key, and the rest once."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.test_cli import regledger

    assert regledger("ingest", str(SCENARIOS / "mf-day.jsonl"), db=store_url).returncode == 0
    with http_receiver() as (url, hooks):
        env = {**os.environ, "REGLEDGER_NOTIFY_WEBHOOK_URL": url, "REGLEDGER_NOTIFY_WEBHOOK_SECRET": SECRET,
               "REGLEDGER_NOTIFY_POLL_S": "0.2"}
        command = [sys.executable, "-m", "ops", "notify", "--follow", "--db", store_url]
        logs = [tmp_path / "first.log", tmp_path / "second.log"]
        with logs[0].open("w") as err:  # the child writes to its own copy of the file
            first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err)
        hooks.on_arrival = lambda: (os.kill(first.pid, signal.SIGKILL), setattr(hooks, "on_arrival", None))
        try:
            code = first.wait(timeout=NOTIFY_WAIT_S)
        except subprocess.TimeoutExpired:
            first.kill()
            code = first.wait()
        assert code == -signal.SIGKILL, f"{len(hooks.raw)} webhooks; the notifier's log: {logs[0].read_text()[-3000:]}"
        assert len(hooks.raw) == 1
        status = json.loads(regledger("notify", "--status", db=store_url).stdout)
        assert [r["sent_at"] for r in status] == [None, None]  # the first was received, never marked
        with logs[1].open("w") as err:
            second = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err)
        try:
            deadline = time.monotonic() + NOTIFY_WAIT_S
            while len(hooks.raw) < 3 and time.monotonic() < deadline:
                time.sleep(0.1)  # polling a real process: there is no tracking to wait on
            time.sleep(1)  # a few more polls of the restarted process: nothing more may come
        finally:
            # SIGTERM, as systemd stops the service. Not SIGINT: a shell that starts the tests in
            # the background has its children ignore SIGINT, and the notifier inherits that.
            second.terminate()
            try:
                code = second.wait(timeout=NOTIFY_WAIT_S)
            except subprocess.TimeoutExpired:
                second.kill()
                second.wait()
                pytest.fail(f"the restarted notifier did not stop on SIGTERM; its log: {logs[1].read_text()[-3000:]}")
        assert code == -signal.SIGTERM, logs[1].read_text()[-3000:]
    keys = [h["Idempotency-Key"] for h, _ in hooks.raw]
    assert len(keys) == 3 and keys[0] == keys[1]  # the interrupted one again, with the same key
    assert hooks.raw[0][1] == hooks.raw[1][1]  # and the same body
    with open_store_of(store_url) as store:
        assert sorted(hooks.unique("Idempotency-Key")) == sorted(critical_ids(store))
        assert all(r["sent_at"] for r in Outbox(store).rows())


@contextmanager
def open_store_of(url: str) -> Iterator[Store]:
    from projections.store import open_store

    store = open_store(url)
    try:
        yield store
    finally:
        store.close()
