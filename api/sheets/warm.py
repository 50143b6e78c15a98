"""Where a re-solve starts: the draft plan of the run it re-solves, with the edits it applies taken into account,
so that the solver repairs and improves a plan instead of searching from scratch (`routing.solve`'s
`initial_routes`)."""

from collections.abc import Collection, Mapping
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from api.models.sheets import VisitSheet
from api.sheets.instance import Pin, PlannedDay


def previous_routes(
    session: Session, based_on: UUID, day: PlannedDay, pins: Mapping[str, Pin], edited: Collection[str]
) -> dict[str, list[str]]:
    """Each team's stop keys in the order of the `based_on` run's draft sheets, over the teams and requests of
    `day`: an edited request (pinned or removed) is taken off every route and a request pinned to a position goes
    back in at it; the solver places the other pinned ones."""
    sheets = session.scalars(
        select(VisitSheet).where(VisitSheet.run_id == based_on).options(selectinload(VisitSheet.stops))
    )
    routes: dict[str, list[str]] = {key: [] for key in day.teams}
    for sheet in sheets:
        team = str(sheet.team_id)
        if team in routes:
            ordered = sorted(sheet.stops, key=lambda stop: stop.position)
            routes[team] = [key for stop in ordered if (key := str(stop.visit_request_id)) in day.requests]
    for route in routes.values():
        route[:] = [key for key in route if key not in edited]
    placed = sorted((pin.position, key, pin.team_key) for key, pin in pins.items() if pin.position is not None)
    for position, key, team in placed:
        if team in routes and key in day.requests:
            routes[team].insert(position - 1, key)
    return routes
