"""The officer's and examiner's reading commands: ``rules`` (the rule catalogue) and
``client`` (one client on one page)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from ops.client_view import as_text as client_text
from ops.client_view import client_view
from ops.commands.audit import opened
from ops.options import DbOption
from ops.render import to_json
from projections.explain.catalogue import as_text as rules_text
from projections.explain.catalogue import catalogue


class OfficerFormat(StrEnum):
    """``--format`` of the reading commands: text, their default, listed first in ``--help``
    (``ops.render.TextFormat`` lists json first)."""

    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    @app.command()
    def rules(
        db: DbOption = None,
        output: Annotated[OfficerFormat, typer.Option("--format")] = OfficerFormat.text,
    ) -> None:
        """The rule catalogue: id, title, severity, citation, the obligation in plain words,
        and each parameter in force with its amendments (from the ledger)."""
        store = opened(db)
        try:
            found = catalogue(store)
        finally:
            store.close()
        typer.echo(to_json(found) if output is OfficerFormat.json else rules_text(found), nl=output is OfficerFormat.json)

    @app.command()
    def client(
        client_id: Annotated[str, typer.Argument(help="a client, or anything of one (account, pledge, loan, order ...)")],
        db: DbOption = None,
        output: Annotated[OfficerFormat, typer.Option("--format")] = OfficerFormat.text,
    ) -> None:
        """One client now: identity and classification, accounts, lending value, debt and
        shortfall, perpetual equity and margins, its findings and cases, recent activity."""
        store = opened(db)
        try:
            view = client_view(store, client_id)
        finally:
            store.close()
        typer.echo(to_json(view) if output is OfficerFormat.json else client_text(view), nl=output is OfficerFormat.json)
