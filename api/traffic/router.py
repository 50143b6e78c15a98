from uuid import UUID

from fastapi import APIRouter, Request, status
from sqlalchemy import select

from api.branches import service as branches_service
from api.db import SessionDep
from api.deps import Admin
from api.models.traffic import TravelCalibration
from api.problems import ValidationFailed, problem_responses
from api.roads.travel import travel_provider
from api.traffic import calibration
from api.traffic.schemas import CalibrationRead, CalibrationRequest

router = APIRouter(prefix="/branches/{branch_id}/travel-calibrations", tags=["branches"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(branches_service.BranchNotFound, calibration.NotEnoughLegs, ValidationFailed),
)
def create_calibration(
    branch_id: UUID, body: CalibrationRequest, request: Request, session: SessionDep, user: Admin
) -> CalibrationRead:
    """Learn the branch's traffic by the hour from the legs its teams drove between two visits (timed by their
    tracks), or those AMap priced, against the road engine's seconds; judge it on every fifth leg held out, and with
    `apply` put it in force where it does better there (admins)."""
    branch = branches_service.get_branch(session, user, branch_id)
    travel = travel_provider(request.app.state.settings.planning).of(branch.id)
    row = calibration.calibrate_branch(
        session, branch, body.since, body.until, travel, apply=body.apply, source=body.source, user_id=user.id
    )
    return CalibrationRead.from_row(row)


@router.get("", responses=problem_responses(branches_service.BranchNotFound))
def list_calibrations(branch_id: UUID, session: SessionDep, user: Admin) -> list[CalibrationRead]:
    """The branch's calibrations, newest first (admins)."""
    branch = branches_service.get_branch(session, user, branch_id)
    rows = session.scalars(
        select(TravelCalibration)
        .where(TravelCalibration.branch_id == branch.id)
        .order_by(TravelCalibration.created_at.desc())
    )
    return [CalibrationRead.from_row(row) for row in rows]
