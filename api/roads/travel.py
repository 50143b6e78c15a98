"""The travel times every plan of the day rests on, built from the settings in this one place: planning, re-solving,
the in-day re-plans, urgent insertions, moves and the late-team watch all price travel with it."""

from api.config import PlanningSettings
from routing.matrix import GreatCircle, MatrixProvider, OsrmTable


def travel_provider(settings: PlanningSettings) -> MatrixProvider:
    """Great circles at the travel mode's speed, or the OSRM server falling back to them when it cannot answer (the
    answer's `Matrices.source` says which) and for a pair of addresses it has no route between; an address it
    cannot reach at all is `Matrices.unreachable`."""
    great_circle = GreatCircle(settings.travel_mode)
    if settings.road_engine == "great_circle":
        return great_circle
    return OsrmTable(
        settings.osrm_url,
        profile=settings.osrm_profile,
        timeout_s=settings.osrm_timeout_s,
        fallback=great_circle,
        max_points_per_request=settings.osrm_max_table_size,
        max_snap_m=settings.osrm_max_snap_m,
    )
