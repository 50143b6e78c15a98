"""The travel-calibration resource: a request to learn a branch's traffic by the hour from its tracks, and what it
learnt, with its error on held-out legs."""

from datetime import date
from uuid import UUID

from pydantic import Field

from api.models.traffic import CalibrationSource, TravelCalibration
from api.schemas import Body, Day, FromJson, Instant, Read


class CalibrationRequest(Body):
    """Learn the branch's hour factors from the legs of a span of dates: those its teams drove between two visits,
    or those AMap priced (`fieldvisit roads reprice`)."""

    source: FromJson[CalibrationSource] = Field(
        default=CalibrationSource.TRACKS,
        description="tracks: the legs between two visits done one after the other, timed by the on-duty tracks;"
        " amap: the planned legs AMap's driving distance priced, in the traffic of the hour it was asked.",
    )
    since: FromJson[Day] = Field(description="The first date whose legs count (work date; amap: the date priced).")
    until: FromJson[Day] = Field(description="The last date whose legs count (at most a year after since).")
    apply: bool = Field(
        default=False,
        description="Put the factors in force (the branch's travel_hour_factors) if they do better on the held-out"
        " legs than those in force; false: only measure.",
    )


class CalibrationRead(Read):
    """A calibration: the factors learnt and how well they predict legs they were not learnt from."""

    id: UUID
    branch_id: UUID
    source: CalibrationSource = Field(description="Where the legs came from: the teams' tracks, or AMap.")
    since: date
    until: date
    engine: str = Field(description="The road engine whose seconds the factors multiply.")
    factors: list[float] = Field(description="One factor per local hour from 00:00, as in travel_hour_factors.")
    legs_per_hour: list[int] = Field(
        description="Legs learnt from, by the local hour they began in; an hour with fewer than 5 takes the factor"
        " of all the legs."
    )
    learnt_from: int = Field(description="Legs the factors were learnt from (four in five).")
    held_out: int = Field(description="Legs held out to judge them (every fifth, in the order driven).")
    set_aside: int = Field(
        description="Legs more than 4 times longer or shorter than the engine says: a lunch, a detour, not a drive."
    )
    error_before: float = Field(
        description="Median absolute error on the held-out legs with the factors in force when it ran (none: the"
        " engine's times), as a share of the seconds taken: 0.25 is 25 %."
    )
    error_after: float = Field(description="The same with the factors learnt.")
    applied: bool = Field(description="Whether the factors were put in force.")
    requested_by_id: UUID | None = Field(description="Who asked for it; null: the command line.")
    created_at: Instant

    @classmethod
    def from_row(cls, row: TravelCalibration) -> "CalibrationRead":
        return cls.model_validate(row)
