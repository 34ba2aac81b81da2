"""Feature routes (audit, cases, evidence, reports, console) are added here as they land."""

from __future__ import annotations

from fastapi import FastAPI


def register_feature_routes(app: FastAPI) -> None:
    """Each feature module registers its routes on the app."""
