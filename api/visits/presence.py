"""A visit's presence assessment: the rows that show who was where (check-ins, both agents' on-duty tracks, the
photos' EXIF, the recordings) gathered into a `VisitScene`, scored by `api.rules.presence`, kept on the visit at
its start and at its completion; under the branch's threshold it is a "presence doubtful" finding, once (unless
neither phone sent a fix and nothing is flagged: a team without positions is reported out of contact instead)."""

from dataclasses import asdict
from datetime import datetime, timedelta
from uuid import UUID

from geoalchemy2.shape import to_shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.branches import service as branches_service
from api.db import utcnow
from api.findings import service as findings_service
from api.geo import point_shape
from api.models.branches import Branch
from api.models.cases import Address, DebtCase
from api.models.findings import Finding, FindingKind
from api.models.sheets import VisitSheet
from api.models.teams import Team
from api.models.tracks import StoredFix, Track
from api.models.visit_evidence import EvidenceItem, EvidenceKind, EvidenceStatus
from api.models.visits import Outcome, PresenceStage, Visit, VisitPresence, VisitStatus
from api.rules.field import FieldRules
from api.rules.presence import (
    CheckInFix,
    Door,
    PhotoFix,
    PresenceRules,
    PreviousStop,
    Signal,
    TrackFix,
    VisitScene,
    along_route_m,
    assess,
    doubtful,
)
from api.tracks import service as tracks_service
from api.visits import evidence_policy

BEFORE = timedelta(minutes=45)  # the approach: how far before the arrival the tracks are read
AFTER = timedelta(minutes=10)
EARLIER_VISITS = 5  # earlier visits of the address whose tracks a replay is looked for in


def assess_visit(session: Session, visit: Visit, stage: PresenceStage, rules: FieldRules) -> VisitPresence:
    """Assess the visit now (at its start, or at its completion) and keep the assessment; a doubtful one is
    published as a finding if none was for this visit."""
    now = utcnow()
    scene = _scene(session, visit, stage, rules, now)
    assessment = assess(scene, PresenceRules(photo_far_m=rules.photo_far_m, photo_slack=rules.photo_slack))
    row = session.scalar(select(VisitPresence).where(VisitPresence.visit_id == visit.id, VisitPresence.stage == stage))
    if row is None:
        row = VisitPresence(visit_id=visit.id, stage=stage)
        session.add(row)
    row.score, row.signals, row.computed_at = assessment.score, [_signal(s) for s in assessment.signals], now
    session.flush()
    threshold = branches_service.rules_of(session.get_one(Branch, visit.branch_id)).tracking.presence_threshold
    # phones that sent no fix at all are the out-of-contact finding's business: doubtful here is what the data shows
    shown = assessment.flagged or any(scene.tracks.values())
    if shown and doubtful(assessment.score, threshold) and not _already_doubted(session, visit):
        findings_service.publish(
            session,
            session.get_one(DebtCase, visit.case_id),
            FindingKind.PRESENCE_DOUBTFUL,
            visit_id=str(visit.id),
            stage=stage.value,
            score=assessment.score,
            threshold=threshold,
            flagged=[name.value for name in assessment.flagged],
            signals=row.signals,
        )
    return row


def presence_of(session: Session, visit_ids: list[UUID]) -> dict[UUID, list[VisitPresence]]:
    """The visits' assessments, start first, in one query."""
    found: dict[UUID, list[VisitPresence]] = {visit_id: [] for visit_id in visit_ids}
    query = select(VisitPresence).where(VisitPresence.visit_id.in_(visit_ids)).order_by(VisitPresence.computed_at)
    for row in session.scalars(query):
        found[row.visit_id].append(row)
    return found


def _signal(signal: Signal) -> dict[str, object]:
    plain = asdict(signal)
    plain["name"] = str(plain["name"])
    return plain


def _already_doubted(session: Session, visit: Visit) -> bool:
    findings = session.scalars(
        select(Finding.payload).where(Finding.case_id == visit.case_id, Finding.kind == FindingKind.PRESENCE_DOUBTFUL)
    )
    return any(payload.get("visit_id") == str(visit.id) for payload in findings)


def _scene(session: Session, visit: Visit, stage: PresenceStage, rules: FieldRules, now: datetime) -> VisitScene:
    point = point_shape(session.get_one(Address, visit.address_id).point)
    team = session.get_one(Team, visit.team_id)
    agents = tuple(str(member.agent_id) for member in team.members)
    arrived = evidence_policy.arrival(session, visit) or visit.started_at or now
    until = now
    claimed = None
    if stage is PresenceStage.COMPLETION:
        outcome_at = session.scalar(select(func.min(Outcome.submitted_at)).where(Outcome.visit_id == visit.id))
        until, claimed = outcome_at or now, visit.on_site_s
    tracks = {track.id: track for track in session.scalars(select(Track).where(Track.team_id == team.id))}
    fixes = tracks_service.fixes_of(session, list(tracks), arrived - BEFORE, until + AFTER)
    evidence = [] if stage is PresenceStage.START else _evidence(session, visit)
    return VisitScene(
        door=Door(point.y, point.x, rules.geofence_radius_m),
        agents=(agents[0], agents[1]),
        arrived_at=arrived,
        until=until,
        check_ins=tuple(
            CheckInFix(str(c.agent_id), c.lat, c.lon, c.accuracy_m, c.device_time, c.received_at)
            for c in visit.check_ins
        ),
        tracks={str(tracks[track_id].agent_id): tuple(map(track_fix, own)) for track_id, own in fixes.items()},
        photos=tuple(
            PhotoFix(item.lat, item.lon, item.taken_at) for item in evidence if item.kind is not EvidenceKind.RECORDING
        ),
        recordings_s=tuple(
            item.duration_s for item in evidence if item.kind is EvidenceKind.RECORDING and item.duration_s
        ),
        claimed_on_site_s=claimed,
        previous_stop=_previous_stop(session, visit, arrived, (point.y, point.x)),
        earlier_tracks=_earlier_tracks(session, visit),
    )


def track_fix(fix: StoredFix) -> TrackFix:
    return TrackFix(fix.at, fix.lat, fix.lon, fix.accuracy_m, fix.speed_mps, fix.mock, fix.clock_skew_s, fix.steps)


def _evidence(session: Session, visit: Visit) -> list[EvidenceItem]:
    return list(
        session.scalars(
            select(EvidenceItem).where(
                EvidenceItem.visit_id == visit.id, EvidenceItem.status == EvidenceStatus.ACCEPTED
            )
        )
    )


def _previous_stop(session: Session, visit: Visit, arrived: datetime, door: tuple[float, float]) -> PreviousStop | None:
    """The team's visit completed last before this one's arrival, where it left from, and how far it is from there
    along the sheet's route (the roads, where the day was planned on them)."""
    previous = session.execute(
        select(Visit.completed_at, Address.point)
        .join(Address, Address.id == Visit.address_id)
        .where(Visit.team_id == visit.team_id, Visit.id != visit.id, Visit.completed_at <= arrived)
        .order_by(Visit.completed_at.desc())
        .limit(1)
    ).first()
    if previous is None:
        return None
    point = point_shape(previous.point)
    route = session.scalar(select(VisitSheet.route).where(VisitSheet.id == visit.sheet_id))
    route_m = None
    if route is not None:
        line = [(lat, lon) for lon, lat in to_shape(route).coords]
        route_m = along_route_m(line, (point.y, point.x), door)
    return PreviousStop(point.y, point.x, previous.completed_at, route_m)


def _earlier_tracks(session: Session, visit: Visit) -> tuple[tuple[TrackFix, ...], ...]:
    """The tracks kept of earlier visits of the same address, each from its arrival to its completion: a track
    replayed from one of them repeats its fixes."""
    earlier = session.scalars(
        select(Visit)
        .where(Visit.address_id == visit.address_id, Visit.id != visit.id, Visit.status == VisitStatus.COMPLETED)
        .order_by(Visit.completed_at.desc())
        .limit(EARLIER_VISITS)
    ).all()
    found: list[tuple[TrackFix, ...]] = []
    for other in earlier:
        began = evidence_policy.arrival(session, other) or other.started_at
        tracks = list(session.scalars(select(Track.id).where(Track.team_id == other.team_id)))
        if began is None or other.completed_at is None or not tracks:
            continue
        fixes = tracks_service.fixes_of(session, tracks, began - BEFORE, other.completed_at)
        found += [tuple(map(track_fix, own)) for own in fixes.values() if own]
    return tuple(found)
