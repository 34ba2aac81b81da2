"""The HTTP API and web console (FastAPI under uvicorn)."""
