"""``regledger supervise``: the regulator's node (issue 23, ops/deploy/REPLICATION.md).

On the firm's side ``publish`` (the publication and the supervisor's role) and ``digest``
(a signed digest published beside the ledger); on the regulator's side ``subscribe`` (one
feed database per firm) and ``run`` (the follower that checks the feed independently and
records SUP-01..SUP-04 in the regulator's store for that firm).
"""

from __future__ import annotations

import os
import time
from typing import Annotated

import psycopg
import structlog
import typer

from domain.evidence.digest import sign
from ops import keys
from ops.options import DbOption, database_url
from ops.settings import load_settings
from ops.wiring import open_store
from policies.supervisory import SILENT_AFTER_S_DEFAULT
from projections.evidence.attest import checkpoint_at
from projections.store.postgres import ensure_database
from projections.supervise.feed import Feed, check_firm, subscribe
from projections.supervise.follower import Follower
from projections.supervise.publication import publish, publish_digest

log = structlog.get_logger("regledger.supervise")
RUN_POLL_S = 1.0
RUN_RETRY_MAX_S = 30.0

FirmOption = Annotated[str, typer.Option("--firm", help="the firm's id on the regulator's side (a-z, 0-9, _)")]
FeedOption = Annotated[str, typer.Option("--feed", help="the regulator's feed database of this firm: postgresql://...")]


def _connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(url, connect_timeout=5, autocommit=True)


def register(app: typer.Typer) -> None:
    supervise = typer.Typer(help="The regulator's node: publish the tables of record, subscribe, check.",
                            no_args_is_help=True)
    app.add_typer(supervise, name="supervise")

    @supervise.command("publish")
    def publish_command(
        db: DbOption = None,
        password_env: Annotated[str | None, typer.Option(
            "--password-env", help="name of an environment variable holding the supervisor role's password")] = None,
    ) -> None:
        """On the firm's primary (wal_level = logical): create the publication of the ledger,
        findings, case statuses, monitor position and signed digests, and the role
        regledger_supervisor that may replicate and read those tables and nothing else."""
        url = database_url(db)
        open_store(url, create=True).close()  # the tables to publish exist
        password = os.environ.get(password_env) if password_env else None
        with _connect(url) as conn:
            for line in publish(conn, password):
                typer.echo(line)

    @supervise.command("digest")
    def digest_command(
        db: DbOption = None,
        key: Annotated[str | None, typer.Option("--key", help="PEM signing key [env REGLEDGER_SIGNING_KEY]")] = None,
    ) -> None:
        """Sign the ledger's tip and publish the digest to the regulator (table supervisory_digests)."""
        private = keys.signing_key(key or load_settings().signing_key)
        store = open_store(database_url(db))
        try:
            checkpoint = checkpoint_at(store)
        finally:
            store.close()
        signed = sign(checkpoint, private)
        with _connect(database_url(db)) as conn:
            new = publish_digest(conn, checkpoint.position, checkpoint.merkle_root, checkpoint.chain_hash,
                                 checkpoint.recorded_at, signed.key_id, signed.signature)
        typer.echo(f"digest at position {checkpoint.position} " + ("published" if new else "was published already"))

    @supervise.command("subscribe")
    def subscribe_command(
        firm: FirmOption,
        source: Annotated[str, typer.Option("--from", help="the firm's primary, as the role regledger_supervisor: postgresql://...")],
        db: Annotated[str, typer.Option("--db", help="the regulator's database for this firm (created when missing)")],
    ) -> None:
        """On the regulator's server: the firm's tables, the journal of changes and the subscription."""
        check_firm(firm)
        ensure_database(dict(psycopg.conninfo.conninfo_to_dict(db)))
        with _connect(db) as conn:
            typer.echo(subscribe(conn, firm, source))

    @supervise.command("run")
    def run_command(
        firm: FirmOption,
        feed_url: FeedOption,
        public_key: Annotated[str, typer.Option("--public-key", help="the firm's public key (PEM): its digests must verify")],
        db: DbOption = None,
        once: Annotated[bool, typer.Option("--once", help="one pass, then exit (exit 3 when it recorded alerts)")] = False,
        silent_after_s: Annotated[float, typer.Option(min=0, help="SUP-04 once the feed is stopped or silent this long")] = SILENT_AFTER_S_DEFAULT,
        poll_s: Annotated[float, typer.Option(min=0.01, help="seconds between passes with nothing new")] = RUN_POLL_S,
        four_eyes: Annotated[str | None, typer.Option(
            "--four-eyes-severities", help="severities whose cases need two officers to close: SUP-03 otherwise"
            " [default: REGLEDGER_FOUR_EYES_SEVERITIES]")] = None,
    ) -> None:
        """Follow one firm's feed: verify the chain as rows arrive and against each signed
        digest, run the regulator's own monitor (store --db) and compare its findings with the
        firm's, check each case closing for its four-eyes record, and record SUP-01..SUP-04 there."""
        key = keys.public_key(public_key)
        feed = Feed(feed_url, firm)
        store = open_store(database_url(db), create=True)
        severities = load_settings().names("four_eyes_severities") if four_eyes is None else frozenset(
            s.strip() for s in four_eyes.split(",") if s.strip())
        follower = Follower(feed, store, key, silent_after_s, severities)
        try:
            retry_in_s = 0.0
            while True:
                try:
                    done = follower.cycle()
                except (psycopg.OperationalError, psycopg.InterfaceError) as e:
                    if once:
                        raise
                    retry_in_s = min(RUN_RETRY_MAX_S, max(poll_s, retry_in_s * 2))
                    log.warning("supervision_store_unavailable", error=str(e).splitlines()[0], retry_in_s=retry_in_s)
                    time.sleep(retry_in_s)
                    continue
                retry_in_s = 0.0
                if once:
                    typer.echo(f"firm {firm}: verified to position {done.position}; {done.accepted} rows appended,"
                               f" {done.alerts} new alerts; feed {'healthy' if done.healthy else 'NOT healthy'}")
                    raise typer.Exit(3 if done.alerts else 0)
                if not done.busy:
                    time.sleep(poll_s)
        except KeyboardInterrupt:
            return
        finally:
            store.close()
            feed.close()
