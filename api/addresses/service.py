"""Giving addresses points: a supervisor's hand, and the geocoders (through their cache). A point a person set is
never replaced by a geocoder's, and no provider is asked while a database transaction is open (on SQLite it would
hold the one write lock through the network's delays)."""

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from api.addresses.geocoders import Candidate, Geocoder, GeocoderError, normalise
from api.addresses.grades import FINEST_FIRST, AddressGrade, PointSource, Precision, trusted
from api.addresses.models import GeocodeAnswer
from api.cases import service as cases_service
from api.cases.models import Address, AddressValidity, DebtCase
from api.db import utcnow
from api.geo import GeoPoint
from api.users.models import User


def set_point(session: Session, user: User, address_id: UUID, point: GeoPoint) -> Address:
    """A supervisor puts the address where it is: planning trusts it, and no geocoder moves it again."""
    address = cases_service.get_address(session, user, address_id)
    address.place(point.to_wkt(), PointSource.SUPERVISOR, by_id=user.id)
    session.flush()
    return address


@dataclass(frozen=True, slots=True)
class Lookup:
    """What the geocoders answered for one text: the candidates of each provider asked, and how many were asked
    (not found in the cache)."""

    candidates: tuple[Candidate, ...]
    asked: int
    failed: tuple[str, ...] = ()  # providers that could not answer (unavailable, quota, refused)

    @property
    def best(self) -> Candidate | None:
        """The finest match; the first provider's on a tie."""
        ranked = sorted(self.candidates, key=lambda candidate: FINEST_FIRST.index(candidate.precision))
        return ranked[0] if ranked else None


def query_key(text: str, city: str | None) -> str:
    return hashlib.sha256(f"{normalise(text)}|{normalise(city or '')}".encode()).hexdigest()


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
    failed: list[str] = []
    if not normalise(text):  # nothing a provider could look up (and AMap would answer INVALID_PARAMS each time)
        return Lookup((), 0)
    for geocoder in geocoders:
        with sessions() as session:
            candidates = cached_candidates(session, geocoder.name, text, city)
        if candidates is None:
            try:
                candidates = geocoder.geocode(text, city=city)
            except GeocoderError:
                failed.append(geocoder.name)
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
    by_grade: Counter[str] = field(default_factory=Counter)
    by_precision: Counter[str] = field(default_factory=Counter)


def unplaced(branch_id: UUID | None) -> Select[tuple[UUID, str, AddressGrade, dict[str, Any]]]:
    """The addresses without a point that may still be visited, oldest first: id, text, grade and parts."""
    query = (
        select(Address.id, Address.raw_text, Address.grade, Address.parts)
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
    planning trusts only if it is as precise as the text. Progress is called with (done, total)."""
    with sessions() as session:
        rows = session.execute(unplaced(branch_id).limit(limit)).all()
    summary = GeocodeSummary()
    for done, (address_id, text, grade, parts) in enumerate(rows, start=1):
        lookup = look_up(sessions, geocoders, text, parts.get("city"))
        summary.addresses += 1
        summary.asked += lookup.asked
        summary.by_grade[grade.value] += 1
        best = lookup.best
        if best is None:
            summary.failed += bool(lookup.failed)
            summary.not_found += not lookup.failed
        elif _place(sessions, address_id, text, best):
            summary.by_precision[best.precision.value] += 1
            if trusted(grade, best.precision):
                summary.trusted += 1
            else:
                summary.untrusted += 1
        if progress is not None:
            progress(done, len(rows))
    return summary


def _place(sessions: sessionmaker[Session], address_id: UUID, text: str, best: Candidate) -> bool:
    """Set the geocoder's point, unless the address got one meanwhile or its text changed."""
    with sessions.begin() as session:
        address = session.get_one(Address, address_id)
        if address.point is not None or address.raw_text != text:
            return False
        point = GeoPoint(lat=best.lat, lon=best.lon).to_wkt()
        address.place(point, PointSource.GEOCODER, precision=best.precision, provider=best.provider)
        return True
