"""Giving addresses points: a supervisor's hand, and the geocoders (through their cache). A point a person set is
never replaced by a geocoder's, and no provider is asked while a database transaction is open (on SQLite it would
hold the one write lock through the network's delays)."""

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from api.addresses import precheck
from api.addresses.geocoders import Candidate, Geocoder, GeocoderError, normalise, query_key
from api.branches.service import local_today
from api.cases import service as cases_service
from api.db import utcnow
from api.findings import service as findings_service
from api.geo import GeoPoint
from api.models.addresses import GeocodeAnswer
from api.models.branches import Branch
from api.models.cases import Address, AddressValidity, DebtCase
from api.models.findings import Finding, FindingKind
from api.models.users import User
from api.rules.grades import (
    ADMINS_TO_FIX,
    FINEST_FIRST,
    AddressGrade,
    GeocodeOutcome,
    PointSource,
    Precision,
    geocode_label,
    trusted,
)


def set_point(session: Session, user: User, address_id: UUID, point: GeoPoint) -> Address:
    """A supervisor puts the address where it is: planning trusts it, and no geocoder moves it again."""
    address = cases_service.get_address(session, user, address_id)
    address.place(point.to_wkt(), PointSource.SUPERVISOR, by_id=user.id)
    session.flush()
    return address


@dataclass(frozen=True, slots=True)
class ProviderFailure:
    """A provider that could not answer, why (a code) and in its own words."""

    provider: str
    outcome: GeocodeOutcome
    detail: str


@dataclass(frozen=True, slots=True)
class Lookup:
    """What the geocoders answered for one text: the candidates of each provider asked, and how many were asked
    (not found in the cache)."""

    candidates: tuple[Candidate, ...]
    asked: int
    failed: tuple[ProviderFailure, ...] = ()  # providers that could not answer (unavailable, quota, refused)

    @property
    def best(self) -> Candidate | None:
        """The finest match; the first provider's on a tie."""
        ranked = sorted(self.candidates, key=lambda candidate: FINEST_FIRST.index(candidate.precision))
        return ranked[0] if ranked else None

    def outcome(self, grade: AddressGrade) -> GeocodeOutcome:
        """How the attempt ended for an address of this grade: its best match, or why the first provider that
        failed did (a failure is not a "found nothing": it is asked again next time)."""
        best = self.best
        if best is not None:
            return GeocodeOutcome.PLACED if trusted(grade, best.precision) else GeocodeOutcome.COARSE_MATCH
        return self.failed[0].outcome if self.failed else GeocodeOutcome.NO_MATCH

    @property
    def detail(self) -> str:
        """The failed providers' own words: "amap: INVALID_USER_KEY (infocode 10001)"."""
        return "; ".join(f"{failure.provider}: {failure.detail}" for failure in self.failed)


def cached_candidates(session: Session, provider: str, text: str, city: str | None) -> list[Candidate] | None:
    """The cached answer of `provider` to this text, or None if it was never asked."""
    answer = session.get(GeocodeAnswer, (provider, query_key(text, city)))
    if answer is None:
        return None
    return [Candidate(**{**row, "precision": Precision(row["precision"])}) for row in answer.candidates]


def look_up(sessions: sessionmaker[Session], geocoders: Sequence[Geocoder], text: str, city: str | None) -> Lookup:
    """Ask the geocoders in turn (the cache first) until one gives a match precise enough for any address; the
    answers asked for are cached, an empty one too. A provider that fails is skipped (and not cached)."""
    found: list[Candidate] = []
    asked = 0
    failed: list[ProviderFailure] = []
    if not normalise(text):  # nothing a provider could look up (and AMap would answer INVALID_PARAMS each time)
        return Lookup((), 0)
    for geocoder in geocoders:
        with sessions() as session:
            candidates = cached_candidates(session, geocoder.name, text, city)
        if candidates is None:
            try:
                candidates = geocoder.geocode(text, city=city)
            except GeocoderError as error:
                failed.append(ProviderFailure(geocoder.name, error.outcome, error.detail))
                continue
            asked += 1
            _remember(sessions, geocoder.name, text, city, candidates)
        found += candidates
        if any(candidate.precision in (Precision.DOOR, Precision.BUILDING) for candidate in candidates):
            break
    return Lookup(tuple(found), asked, tuple(failed))


def _remember(
    sessions: sessionmaker[Session], provider: str, text: str, city: str | None, candidates: list[Candidate]
) -> None:
    with sessions.begin() as session:
        key = query_key(text, city)
        answer = session.get(GeocodeAnswer, (provider, key)) or GeocodeAnswer(provider=provider, query_key=key)
        answer.query = normalise(f"{text} | {city or ''}")
        answer.candidates = [candidate_json(candidate) for candidate in candidates]
        answer.answered_at = utcnow()
        session.add(answer)


def candidate_json(candidate: Candidate) -> dict[str, Any]:
    return asdict(candidate) | {"precision": candidate.precision.value}


@dataclass(slots=True)
class GeocodeSummary:
    """What a geocoding pass did, by outcome, by the addresses' grade and by the matches' precision."""

    addresses: int = 0
    trusted: int = 0  # placed, and planning may route to it
    untrusted: int = 0  # placed, but coarser than the text: the pre-check puts it before the supervisor
    not_found: int = 0
    failed: int = 0  # no provider could answer (kept for the next pass)
    asked: int = 0  # providers' answers asked for (the rest came from the cache)
    resolved: int = 0  # the pre-check's reports that the new points took the cause of (resolved by the system)
    by_outcome: Counter[str] = field(default_factory=Counter)  # GeocodeOutcome values: why, for failures
    by_grade: Counter[str] = field(default_factory=Counter)
    by_precision: Counter[str] = field(default_factory=Counter)
    # (branch, provider, outcome) of a refused key or a spent quota: the addresses, and the provider's words
    refusals: dict[tuple[UUID, str, GeocodeOutcome], tuple[int, str]] = field(default_factory=dict)

    def count(self, branch_id: UUID, lookup: Lookup, grade: AddressGrade) -> None:
        """Count one address's attempt."""
        self.addresses += 1
        self.asked += lookup.asked
        self.by_grade[grade.value] += 1
        self.by_outcome[lookup.outcome(grade).value] += 1
        for failure in lookup.failed:
            if failure.outcome in ADMINS_TO_FIX:
                key = (branch_id, failure.provider, failure.outcome)
                self.refusals[key] = (self.refusals.get(key, (0, ""))[0] + 1, failure.detail)


def unplaced(branch_id: UUID | None) -> Select[UUID, UUID, str, AddressGrade, dict[str, Any]]:
    """The addresses without a point that may still be visited, oldest first: id, branch, text, grade and parts."""
    query = (
        select(Address.id, DebtCase.branch_id, Address.raw_text, Address.grade, Address.parts)
        .join(DebtCase, DebtCase.id == Address.case_id)
        .where(Address.point.is_(None), Address.validity != AddressValidity.CONFIRMED_INVALID)
        .order_by(Address.created_at, Address.id)
    )
    return query.where(DebtCase.branch_id == branch_id) if branch_id is not None else query


def geocode_unplaced(
    sessions: sessionmaker[Session],
    geocoders: Sequence[Geocoder],
    *,
    branch_id: UUID | None = None,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> GeocodeSummary:
    """Geocode the addresses that have no point (of a branch, at most `limit`): each gets the best match, which
    planning trusts only if it is as precise as the text, and keeps how its attempt ended. A report the pre-check
    raised for want of a point resolves itself when the new point leaves the address with no problem; a refused key
    or a spent quota is one finding for the branch. Progress is called with (done, total)."""
    with sessions() as session:
        rows = session.execute(unplaced(branch_id).limit(limit)).all()
    summary = GeocodeSummary()
    for done, (address_id, address_branch_id, text, grade, parts) in enumerate(rows, start=1):
        lookup = look_up(sessions, geocoders, text, parts.get("city"))
        summary.count(address_branch_id, lookup, grade)
        best = lookup.best
        if best is None:
            summary.failed += bool(lookup.failed)
            summary.not_found += not lookup.failed
        with sessions.begin() as session:
            address = session.get_one(Address, address_id)
            if address.point is None and address.raw_text == text:  # else placed meanwhile, or its text changed
                _attempted(address, lookup, grade)
                if best is not None:
                    summary.resolved += _place(session, summary, address, best)
        if progress is not None:
            progress(done, len(rows))
    if summary.refusals:
        with sessions.begin() as session:
            report_refusals(session, summary.refusals)
    return summary


def _place(session: Session, summary: GeocodeSummary, address: Address, best: Candidate) -> bool:
    """Set the geocoder's point; whether it resolved the pre-check's report of the address."""
    point = GeoPoint(lat=best.lat, lon=best.lon).to_wkt()
    address.place(point, PointSource.GEOCODER, precision=best.precision, provider=best.provider)
    summary.by_precision[best.precision.value] += 1
    if not trusted(address.grade, best.precision):
        summary.untrusted += 1
        return False
    summary.trusted += 1
    session.flush()
    return precheck.resolve_cured(session, address)


def _attempted(address: Address, lookup: Lookup, grade: AddressGrade) -> None:
    address.geocode_outcome, address.geocode_detail = lookup.outcome(grade), lookup.detail
    address.geocoded_at = utcnow()


def report_refusals(session: Session, refusals: dict[tuple[UUID, str, GeocodeOutcome], tuple[int, str]]) -> None:
    """One finding for each branch, provider and reason (a refused key, a spent quota) not told already today, at
    the branch: the admin fixes the key or the plan; the addresses are asked again at the next pass."""
    for (branch_id, provider, outcome), (addresses, detail) in refusals.items():
        today = local_today(session.get_one(Branch, branch_id))
        told = session.scalars(
            select(Finding.payload).where(
                Finding.branch_id == branch_id,
                Finding.kind == FindingKind.GEOCODER_REFUSED,
                Finding.created_at >= utcnow() - timedelta(days=2),
            )
        )
        key = {"provider": provider, "reason": outcome.value, "local_date": today.isoformat()}
        if any(key.items() <= payload.items() for payload in told):
            continue
        findings_service.publish_for_branch(
            session,
            branch_id,
            FindingKind.GEOCODER_REFUSED,
            **key,
            label=geocode_label(outcome),
            detail=detail,
            addresses=addresses,
        )
