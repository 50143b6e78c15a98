"""The peer the load is measured against: a bare FastAPI endpoint that reads a team's current sheet and its stops
from the same database, with no authentication, audit or response model. Serve it with
`FIELDVISIT_DATABASE_URL=... uvicorn bench.load.peer:app`."""

import os
from typing import Any
from uuid import UUID

from fastapi import FastAPI
from sqlalchemy import select

from api.db import make_engine
from api.models.sheets import SheetStop, VisitSheet

engine = make_engine(os.environ["FIELDVISIT_DATABASE_URL"], pool_size=20)
app = FastAPI()


@app.get("/sheet/{team_id}")
def sheet(team_id: UUID) -> dict[str, Any]:
    with engine.connect() as connection:
        row = connection.execute(
            select(VisitSheet.id, VisitSheet.version)
            .where(VisitSheet.team_id == team_id, VisitSheet.version.is_not(None))
            .order_by(VisitSheet.version.desc())
            .limit(1)
        ).one()
        stops = connection.execute(
            select(SheetStop.position, SheetStop.visit_request_id, SheetStop.starts_at).where(
                SheetStop.sheet_id == row.id
            )
        ).all()
    return {
        "id": str(row.id),
        "version": row.version,
        "stops": [{"position": s.position, "request": str(s.visit_request_id), "at": s.starts_at} for s in stops],
    }
