"""Console pages beside the findings: a client on one page, the rule catalogue, and a
finding's evidence pack as a download. Same functions as ``regledger client``, ``rules`` and
``evidence``; sessions, roles and CSRF as in ``ops.api.console``."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from domain.errors import InvalidRequest, NotFound
from ops import keys
from ops.api.console import page, signed_in, templates
from ops.api.deps import store_of
from ops.client_view import client_view
from ops.evidence_pack import evidence_pack
from ops.settings import load_settings
from projections.explain.catalogue import catalogue, shown
from projections.explain.plain import money, money_in_text, when

templates.env.globals.update(money=money, money_in_text=money_in_text, when=when, shown=shown)


def register_officer_pages(app: FastAPI) -> None:
    @app.get("/console/clients/{subject}", include_in_schema=False)
    async def client_page(request: Request, subject: str) -> HTMLResponse:
        principal = signed_in(request, "read")
        try:
            view = await run_in_threadpool(client_view, store_of(request), subject)
        except NotFound as e:
            return page(request, "base.html", principal, status=404, error=str(e))
        return page(request, "client.html", principal, v=view)

    @app.get("/console/rules", include_in_schema=False)
    async def rules_page(request: Request) -> HTMLResponse:
        principal = signed_in(request, "read")
        rules = await run_in_threadpool(catalogue, store_of(request))
        return page(request, "rules.html", principal, rules=rules)

    @app.get("/console/findings/{finding_id}/evidence.zip", include_in_schema=False)
    async def evidence_download(request: Request, finding_id: str) -> Response:
        signed_in(request, "read")
        path = load_settings().signing_key
        if not path:
            raise HTTPException(409, "this server holds no signing key (REGLEDGER_SIGNING_KEY): "
                                     "an evidence pack cannot be signed here; ask operations for `regledger evidence`")
        try:
            data = await run_in_threadpool(evidence_pack, store_of(request), finding_id, keys.signing_key(path))
        except NotFound as e:
            raise HTTPException(404, str(e)) from None
        except InvalidRequest as e:
            raise HTTPException(409, str(e)) from None
        return Response(data, media_type="application/zip", headers={
            "Content-Disposition": f'attachment; filename="evidence-{finding_id}.zip"',
        })
