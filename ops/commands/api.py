"""``regledger serve`` and ``regledger token ...``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from ops.options import ReadDbOption, database_url, read_database_url
from projections.tokens import ROLES, TokenStore

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000


def register(app: typer.Typer) -> None:
    tokens = typer.Typer(help="API tokens: create (shown once), list, revoke.", no_args_is_help=True)
    app.add_typer(tokens, name="token")

    @app.command()
    def serve(
        db: Annotated[str | None, typer.Option("--db", help="store URL")] = None,
        read_db: ReadDbOption = None,
        host: Annotated[str, typer.Option(help="address to listen on")] = DEFAULT_HOST,
        port: Annotated[int, typer.Option(help="port to listen on", min=0, max=65535)] = DEFAULT_PORT,
        behind_tls: Annotated[bool | None, typer.Option(
            "--behind-tls/--no-behind-tls",
            help="a TLS-terminating proxy serves this server: Secure session cookies, https origin"
                 " (default: REGLEDGER_BEHIND_TLS)")] = None,
    ) -> None:
        """Serve the HTTP API and the web console (OpenAPI at /openapi.json)."""
        import uvicorn

        from ops.api.app import create_app

        app = create_app(database_url(db), behind_tls=behind_tls, read_database_url=read_database_url(read_db))
        base = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
        typer.echo(f"serving the API at {base} (OpenAPI at {base}/docs)")
        typer.echo(f"the console: {base}/console/findings (log in with a token); Ctrl-C stops")
        uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)

    @tokens.command("create")
    def create(
        name: Annotated[str, typer.Option("--name", help="who or what holds the token")],
        role: Annotated[str, typer.Option("--role", help=" | ".join(ROLES))],
        db: Annotated[str | None, typer.Option("--db", help="store URL")] = None,
    ) -> None:
        """Create a token and print it once; only its hash is stored."""
        from ops.wiring import open_store

        store = open_store(database_url(db), create=True)
        try:
            typer.echo(TokenStore(store).create(name, role, datetime.now(UTC)))
        finally:
            store.close()

    @tokens.command("revoke")
    def revoke(
        name: Annotated[str, typer.Option("--name")],
        db: Annotated[str | None, typer.Option("--db", help="store URL")] = None,
    ) -> None:
        """Revoke a token by name; requests with it get 401 from then on."""
        from ops.wiring import open_store

        store = open_store(database_url(db))
        try:
            TokenStore(store).revoke(name, datetime.now(UTC))
        finally:
            store.close()
        typer.echo(f"revoked {name}")

    @tokens.command("list")
    def list_tokens(db: Annotated[str | None, typer.Option("--db", help="store URL")] = None) -> None:
        """Token names, roles and dates (never the tokens)."""
        from ops.render import to_table
        from ops.wiring import open_store

        store = open_store(database_url(db))
        try:
            rows = TokenStore(store).list()
        finally:
            store.close()
        typer.echo(to_table(rows, ("name", "role", "created_at", "revoked_at"), f"{len(rows)} tokens"), nl=False)
