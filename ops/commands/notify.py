"""``regledger notify [--follow]``: send critical findings by webhook and e-mail, from the outbox."""

from __future__ import annotations

from typing import Annotated

import typer

from domain.errors import InvalidRequest
from ops.notify import Notifier, channels_of
from ops.options import DbOption, database_url
from ops.render import to_json
from ops.settings import load_settings
from ops.wiring import open_store
from projections.notify import Outbox


def register(app: typer.Typer) -> None:
    @app.command("notify")
    def notify(
        db: DbOption = None,
        follow: Annotated[bool, typer.Option("--follow", help="keep running: poll every REGLEDGER_NOTIFY_POLL_S seconds")] = False,
        status: Annotated[bool, typer.Option("--status", help="print the outbox (what was sent, what waits) and stop")] = False,
    ) -> None:
        """Send findings of REGLEDGER_NOTIFY_SEVERITIES (default critical) to the webhook and the
        e-mail recipients the settings name, each once per channel, retrying with back-off."""
        settings = load_settings()
        store = open_store(database_url(db), create=True)
        try:
            if status:
                typer.echo(to_json(Outbox(store).rows()))
                return
            channels = channels_of(settings)
            if not channels:
                raise InvalidRequest(
                    "no notification channel is configured: set REGLEDGER_NOTIFY_WEBHOOK_URL and"
                    " REGLEDGER_NOTIFY_WEBHOOK_SECRET, and/or REGLEDGER_NOTIFY_SMTP_HOST and REGLEDGER_NOTIFY_SMTP_TO"
                )
            notifier = Notifier(store, channels, settings.names("notify_severities"))
            if follow:
                try:
                    notifier.follow(settings.notify_poll_s)
                except KeyboardInterrupt:
                    return
            done = notifier.run_once()
            typer.echo(f"notify: {done.queued} queued, {done.sent} sent, {done.failed} failed (retried later)")
        finally:
            store.close()
