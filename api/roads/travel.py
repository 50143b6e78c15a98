"""The travel times every plan of the day rests on, built from the settings in this one place: planning, re-solving,
the in-day re-plans, urgent insertions, moves, the late-team watch and the evening pre-check all price travel with
it, per branch (each branch has its own road data)."""

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from api.config import PlanningSettings
from api.roads.store import road_data
from routing.matrix import EmbeddedOsrm, GreatCircle, MatrixProvider, OsrmTable, TravelMode


class Travel(Protocol):
    """Prices travel in a branch."""

    def of(self, branch_id: UUID, mode: TravelMode | None = None) -> MatrixProvider:
        """The provider of the branch's travel times, for teams that travel by `mode` (None: the settings')."""
        ...


@dataclass(frozen=True, slots=True)
class SameTravel:
    """One provider for every branch."""

    provider: MatrixProvider

    def of(self, branch_id: UUID, mode: TravelMode | None = None) -> MatrixProvider:
        return self.provider


@dataclass(frozen=True, slots=True)
class BranchTravel:
    """The settings' road engine (`PlanningSettings.road_engine`) for each branch, on its road data under
    `settings.roads_dir` for the travel mode's profile (a team's own, or the settings'); great circles at the travel
    mode's speed price what the roads cannot (see `EmbeddedOsrm`, `OsrmTable`: the answer's `Matrices.source` says
    which engine answered). An OSRM server serves the settings' travel mode only."""

    settings: PlanningSettings

    def of(self, branch_id: UUID, mode: TravelMode | None = None) -> MatrixProvider:
        settings = self.settings
        mode = mode or TravelMode(settings.travel_mode)
        great_circle = GreatCircle(mode)
        # the settings' factor is the settings' mode's; a team travelling otherwise takes its own mode's
        time_factor = (settings.road_time_factor if mode == settings.travel_mode else None) or mode.road_time_factor
        roads_dir = settings.roads_dir
        if settings.road_engine in ("auto", "embedded") and mode.road_profile is not None and roads_dir is not None:
            data = road_data(roads_dir, branch_id, mode.road_profile)
            if settings.road_engine == "embedded" or data.with_suffix(".osrm.hsgr").exists():
                return EmbeddedOsrm(
                    data,
                    engine=f"osrm embedded {mode.road_profile}",
                    fallback=great_circle,
                    max_snap_m=settings.osrm_max_snap_m,
                    time_factor=time_factor,
                    fixed_s=mode.fixed_s,
                )
        server = settings.road_engine == "osrm" or (settings.road_engine == "auto" and settings.osrm_url)
        if server and mode == settings.travel_mode:  # the server routes the settings' way of travelling only
            return OsrmTable(
                settings.osrm_url,
                profile=settings.osrm_profile,
                timeout_s=settings.osrm_timeout_s,
                fallback=great_circle,
                max_points_per_request=settings.osrm_max_table_size,
                max_snap_m=settings.osrm_max_snap_m,
                time_factor=time_factor,
                fixed_s=mode.fixed_s,
            )
        return great_circle


def travel_provider(settings: PlanningSettings) -> Travel:
    """Each branch's travel provider, from the settings."""
    return BranchTravel(settings)
