"""The HQ's HTTP application (FastAPI; its schema at /openapi.json).

This step serves only /health; the enrollment and ingest endpoints, and the request
signatures that guard them, come in the next steps of issue 13.
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from hq import migrate


def create_app(engine: Engine) -> FastAPI:
    app = FastAPI(title="pos-hq", summary="The chain HQ: tills' ledgers, synced", version="1")

    @app.get("/health")
    def health() -> dict[str, object]:
        """Up, and whether the database is at the schema this server was built for."""
        revision = migrate.current_revision(engine)
        return {"status": "ok", "schema_current": revision == migrate.head_revision(engine)}

    return app
