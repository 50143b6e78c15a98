"""The case dossier (催收过程记录): every record of a case's field collection in time order, each citing the rows of
the audit chain that recorded it, and the chain's head, up to which `fieldvisit audit verify` vouches for them; as
JSON and as an A4 PDF printed with the visit sheet's embedded font.

Its records are the case's restrictions (set and lifted), its visit requests and their releases from the eligibility
gate, the published sheet versions holding it and its stops on them, the visits with their check-ins, overrides,
cash approvals, outcomes and amendments, the evidence items, and the address reports with the supervisors'
decisions. They are loaded in a fixed number of queries, whatever the number of records.

A dossier is checked as it is made: the whole chain is verified (on a connection of its own, so that no writer
waits), and each record's row is compared with what the chain recorded of it. What does not hold is a warning on
top of the JSON and on the PDF's first page."""

import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import Enum
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from geoalchemy2 import Geometry
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table
from reportlab.platypus.flowables import Flowable
from sqlalchemy import Row, and_, inspect, or_, select
from sqlalchemy.orm import Session

from api.audit.chain import plain as chain_plain
from api.audit.chain import record_read, verify
from api.cases import service as cases_service
from api.cases.schemas import mask_id_number
from api.db import Base, as_table, utcnow
from api.models.address_reports import AddressReport
from api.models.audit import AuditEvent, AuditHead
from api.models.branches import Branch
from api.models.cases import CaseRestriction, DebtCase
from api.models.sheets import SheetStatus, SheetStop, VisitSheet
from api.models.users import User
from api.models.visit_evidence import EvidenceItem
from api.models.visit_requests import EligibilityRelease, VisitRequest
from api.models.visits import CashApproval, CheckIn, Outcome, Visit
from api.reports.schemas import (
    AuditChainState,
    AuditPosition,
    DossierCase,
    DossierKind,
    DossierRead,
    DossierRecord,
    DossierWarning,
    DossierWarningKind,
)
from api.sheets.printing import (
    FONT,
    NOTE_STYLE,
    TEXT_STYLE,
    TITLE_STYLE,
    a4_document,
    paragraph,
    register_font,
    ruled_table,
)

AuditRow = Row[Any]  # seq, hash, action, at, entity, entity_id, changes of an audit_event
_AUDIT_COLUMNS = (
    AuditEvent.seq,
    AuditEvent.hash,
    AuditEvent.action,
    AuditEvent.at,
    AuditEvent.entity,
    AuditEvent.entity_id,
    AuditEvent.changes,
)
_ORDER = {kind: rank for rank, kind in enumerate(DossierKind)}  # of records at the same moment: cause before effect
SUMMARY_CHARS = 120  # notes and reasons are cut in the summary; `data` has them whole


@dataclass(frozen=True, slots=True)
class _Draft:
    """A record before its audit-chain rows are found: `cites` picks them among the rows of its entity."""

    at: datetime
    kind: DossierKind
    entity: str
    entity_id: str
    summary: str
    data: dict[str, Any]
    cites: Callable[[AuditRow], bool] = lambda _: True  # every row of the entity


def case_dossier(session: Session, user: User, case_id: UUID) -> DossierRead:
    """The dossier of a case the user may see."""
    return dossier_of(session, cases_service.get_case(session, user, case_id))


def dossier_of(session: Session, case: DebtCase) -> DossierRead:
    """The dossier of `case`. Its read (of the case and its evidence) is appended to the audit chain first, so the
    head it cites holds the reader's own read. Verifying the whole chain is `fieldvisit audit verify`'s job: done
    here it would hold the chain's lock, and every writer with it, for as long as the chain takes to read."""
    branch = session.get_one(Branch, case.branch_id)
    zone = ZoneInfo(branch.timezone)
    requests = session.scalars(select(VisitRequest).where(VisitRequest.case_id == case.id)).all()
    request_ids = select(VisitRequest.id).where(VisitRequest.case_id == case.id)
    holding = select(SheetStop.sheet_id).where(SheetStop.visit_request_id.in_(request_ids))
    sheets = session.scalars(
        select(VisitSheet).where(VisitSheet.status == SheetStatus.PUBLISHED, VisitSheet.id.in_(holding))
    ).all()  # with every stop of each sheet, in one more query
    visits = session.scalars(select(Visit).where(Visit.case_id == case.id)).all()  # and their check-ins
    visit_ids = select(Visit.id).where(Visit.case_id == case.id)
    outcomes = session.scalars(select(Outcome).where(Outcome.visit_id.in_(visit_ids))).all()
    approvals = session.scalars(select(CashApproval).where(CashApproval.visit_id.in_(visit_ids))).all()
    evidence = session.scalars(select(EvidenceItem).where(EvidenceItem.visit_id.in_(visit_ids))).all()
    reports = session.scalars(select(AddressReport).where(AddressReport.case_id == case.id)).all()
    restrictions = session.scalars(select(CaseRestriction).where(CaseRestriction.case_id == case.id)).all()
    releases = session.scalars(
        select(EligibilityRelease).where(EligibilityRelease.visit_request_id.in_(request_ids))
    ).all()
    addresses = {address.id: address.raw_text for address in case.addresses}
    record_read(session, "debt_case", case.id, what="dossier")
    record_read(session, "evidence_item", *(item.id for item in evidence), what="dossier")

    rows_shown: list[Base] = [*requests, *visits, *outcomes, *approvals, *evidence, *reports, *restrictions, *releases]
    text = _Text(zone, _names(session, rows_shown))
    ids = {request.id for request in requests}
    drafts = [
        *(_request(text, request, addresses) for request in requests),
        *(draft for sheet in sheets for draft in _sheet(text, sheet, ids)),
        *(draft for visit in visits for draft in _visit(text, visit, sheets)),
        *(_outcome(text, outcome) for outcome in outcomes),
        *(_approval(text, approval, case.currency) for approval in approvals),
        *(_evidence(text, item) for item in evidence),
        *(draft for report in reports for draft in _report(text, report, addresses)),
        *(draft for restriction in restrictions for draft in _restriction(text, restriction, addresses)),
        *(_release(text, release) for release in releases),
    ]
    drafts.sort(key=lambda draft: (draft.at, _ORDER[draft.kind], draft.entity_id))
    rows = _audit_rows(session, [("debt_case", str(case.id)), *((draft.entity, draft.entity_id) for draft in drafts)])
    shown = [
        case,
        *rows_shown,
        *sheets,
        *(stop for sheet in sheets for stop in sheet.stops if stop.visit_request_id in ids),
    ]
    shown += [check_in for visit in visits for check_in in visit.check_ins]
    chain = _chain_state(session)
    warnings = [*_chain_warnings(chain), *_disagreements(shown, rows)]
    return DossierRead(
        warnings=warnings,
        case=DossierCase(
            id=case.id,
            reference=case.reference,
            debtor_name=case.debtor_name,
            debtor_id_number_masked=mask_id_number(case.debtor_id_number),
            amount_owed=case.amount_owed,
            currency=case.currency,
            branch_id=branch.id,
            branch_name=branch.name,
            timezone=branch.timezone,
            created_at=case.created_at,
            audit=_positions(rows.get(("debt_case", str(case.id)), [])),
        ),
        generated_at=utcnow(),
        records=[
            DossierRecord(
                at=draft.at,
                kind=draft.kind,
                entity=draft.entity,
                entity_id=draft.entity_id,
                summary=draft.summary,
                data=draft.data,
                audit=_positions(row for row in rows.get((draft.entity, draft.entity_id), []) if draft.cites(row)),
            )
            for draft in drafts
        ],
        audit_chain=chain,
    )


def _audit_rows(session: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[AuditRow]]:
    """The chain's inserts and updates of the rows named (table, key), in chain order, by row."""
    ids: dict[str, set[str]] = {}
    for entity, entity_id in keys:
        ids.setdefault(entity, set()).add(entity_id)
    named = [and_(AuditEvent.entity == entity, AuditEvent.entity_id.in_(sorted(some))) for entity, some in ids.items()]
    query = select(*_AUDIT_COLUMNS).where(AuditEvent.action.in_(("insert", "update")), or_(*named))
    found: dict[tuple[str, str], list[AuditRow]] = {}
    for row in session.execute(query.order_by(AuditEvent.seq)):
        found.setdefault((row.entity, row.entity_id), []).append(row)
    return found


def _positions(rows: Iterable[AuditRow]) -> list[AuditPosition]:
    return [AuditPosition(seq=row.seq, hash=row.hash, action=row.action, at=row.at) for row in rows]


def _chain_state(session: Session) -> AuditChainState:
    """The head (this dossier's read included) and the chain verified up to what is committed, on a connection of
    its own: this session holds the chain's lock since it appended the read, and no writer waits for the check."""
    head_seq, head_hash = session.execute(select(AuditHead.seq, AuditHead.hash)).one()
    with session.get_bind().engine.connect() as connection:
        verdict = verify(connection)
    return AuditChainState(
        head_seq=head_seq, head_hash=head_hash, verified=not verdict.reason, broken_seq=verdict.broken_seq
    )


def _chain_warnings(chain: AuditChainState) -> list[DossierWarning]:
    if chain.verified:
        return []
    where = f"from row #{chain.broken_seq}" if chain.broken_seq is not None else "at its end (rows removed)"
    return [
        DossierWarning(
            kind=DossierWarningKind.CHAIN_BROKEN,
            message=f"审计链不完整 The audit chain does not hold {where}: the records citing it are not vouched for.",
            entity=None,
            entity_id=None,
            column=None,
            row_value=None,
            chain_value=None,
            seq=chain.broken_seq,
        )
    ]


def _disagreements(shown: Sequence[Base], rows: dict[tuple[str, str], list[AuditRow]]) -> list[DossierWarning]:
    """Each column of a record's row that is not what the chain recorded last of it (a row changed outside the
    application, which the chain would have recorded)."""
    found = []
    for row in shown:
        state = inspect(row)
        entity = as_table(state.mapper.local_table).name
        entity_id = ",".join(str(value) for value in state.mapper.primary_key_from_instance(row))
        recorded = _recorded(rows.get((entity, entity_id), []))
        for attr in state.mapper.column_attrs:
            column = attr.columns[0]
            if attr.key not in recorded or isinstance(column.type, Geometry) or column.onupdate is not None:
                continue  # a point's text differs from its stored form; a stamp the UPDATE sets is not recorded
            now, (chain_value, seq) = chain_plain(getattr(row, attr.key)), recorded[attr.key]
            if now != chain_value:
                differ = _members_differing(attr.key, now, chain_value)
                found.append(
                    DossierWarning(
                        kind=DossierWarningKind.ROW_DISAGREES,
                        message=f"记录与审计链不符 The {entity} row {entity_id} says"
                        f" {', '.join(f'{name} = {said!r}' for name, said, _ in differ)}; the audit chain recorded"
                        f" {', '.join(repr(kept) for _, _, kept in differ)} (row #{seq}).",
                        entity=entity,
                        entity_id=entity_id,
                        column=attr.key,
                        row_value=now,
                        chain_value=chain_value,
                        seq=seq,
                    )
                )
    return found


def _members_differing(column: str, now: Any, recorded: Any) -> list[tuple[str, Any, Any]]:
    """What differs, as (name, row's value, chain's value): the members of a JSON object that differ (an outcome is
    its `details`: the warning names `details.contact_result`, not the whole report), else the column."""
    if isinstance(now, dict) and isinstance(recorded, dict):
        keys = sorted(key for key in now.keys() | recorded.keys() if now.get(key) != recorded.get(key))
        return [(f"{column}.{key}", now.get(key), recorded.get(key)) for key in keys]
    return [(column, now, recorded)]


def _recorded(rows: Sequence[AuditRow]) -> dict[str, tuple[Any, int]]:
    """A row's columns as the chain recorded them last, with the chain row that did: an insert's values, then each
    update's (an ORM update records [before, after], a conditional update the value set)."""
    values: dict[str, tuple[Any, int]] = {}
    for row in rows:
        for column, value in row.changes.items():
            if row.action == "update" and isinstance(value, list) and len(value) == 2:
                value = value[1]
            values[column] = (value, row.seq)
    return values


def _consent(visit: Visit) -> str:
    consent = visit.hours_override_consent
    return f"; the debtor's consent: {_short(consent)}" if consent else ""


def _sets(column: str) -> Callable[[AuditRow], bool]:
    """Rows that gave `column` a value: an insert with it, an ORM update ([before, after]) or a conditional update
    (the value set) to it."""

    def cites(row: AuditRow) -> bool:
        value = row.changes.get(column)
        if row.action == "update" and isinstance(value, list) and len(value) == 2:
            value = value[1]
        return bool(value)

    return cites


# the records, one kind of row at a time


class _Text:
    """How summaries name people and moments: by full name, in the branch's time zone."""

    def __init__(self, zone: ZoneInfo, names: dict[UUID, str]) -> None:
        self.zone, self.names = zone, names

    def who(self, user_id: UUID | None) -> str:
        return "the system" if user_id is None else self.names.get(user_id, str(user_id))

    def when(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")


def _names(session: Session, rows: Sequence[Base]) -> dict[UUID, str]:
    """The full names of every user the rows name (`*_by_id`, `agent_id`)."""
    wanted = {
        value
        for row in rows
        for attr in inspect(row).mapper.column_attrs
        if attr.key.endswith("_by_id") or attr.key == "agent_id"
        if (value := getattr(row, attr.key)) is not None
    }
    return {
        user_id: name for user_id, name in session.execute(select(User.id, User.full_name).where(User.id.in_(wanted)))
    }


def _request(text: _Text, request: VisitRequest, addresses: dict[UUID, str]) -> _Draft:
    window = (
        f", {request.window_start:%H:%M}-{request.window_end:%H:%M}"
        if request.window_start and request.window_end
        else ""
    )
    summary = (
        f"{_words(request.purpose)} visit requested by {text.who(request.requested_by_id)} at "
        f"{_short(addresses.get(request.address_id, str(request.address_id)))}, {request.earliest_date} to "
        f"{request.latest_date}{window}, priority {request.priority}; now {_words(request.status)}"
    )
    return _Draft(
        request.created_at, DossierKind.VISIT_REQUEST, "visit_request", str(request.id), summary, _fields(request)
    )


def _sheet(text: _Text, sheet: VisitSheet, request_ids: set[UUID]) -> Iterator[_Draft]:
    published_at = sheet.published_at or sheet.created_at
    stops = [stop for stop in sheet.stops if stop.visit_request_id in request_ids]
    yield _Draft(
        published_at,
        DossierKind.SHEET_VERSION,
        "visit_sheet",
        str(sheet.id),
        f"{sheet.team_name}'s sheet for {sheet.work_date}, version {sheet.version}, published with "
        f"{len(sheet.stops)} stops, {sheet.distance_m / 1000:.1f} km",
        _fields(sheet, "route"),
    )
    for stop in stops:
        cancelled = f" ({_short(stop.cancel_reason)})" if stop.cancel_reason else ""
        yield _Draft(
            published_at,
            DossierKind.SHEET_STOP,
            "sheet_stop",
            f"{stop.sheet_id},{stop.position}",
            f"Stop {stop.position} of {len(sheet.stops)} on {sheet.team_name}'s sheet v{sheet.version}, planned to "
            f"start {text.when(stop.starts_at)}; now {_words(stop.state)}{cancelled}",
            _fields(stop),
        )


def _visit(text: _Text, visit: Visit, sheets: Sequence[VisitSheet]) -> Iterator[_Draft]:
    team = next((sheet.team_name for sheet in sheets if sheet.id == visit.sheet_id), str(visit.team_id))
    moments = [
        f"started {text.when(visit.started_at)}" if visit.started_at else "",
        f"completed {text.when(visit.completed_at)}" if visit.completed_at else "",
    ]
    yield _Draft(
        visit.created_at,
        DossierKind.VISIT,
        "visit",
        str(visit.id),
        ", ".join([f"Visit by {team}: {_words(visit.status)}", *filter(None, moments)]),
        _fields(visit),
    )
    if visit.hours_override_at is not None:
        yield _Draft(
            visit.hours_override_at,
            DossierKind.HOURS_OVERRIDE,
            "visit",
            str(visit.id),
            f"{text.who(visit.hours_override_by_id)} allowed the door outside the date or hours: "
            f"{_short(visit.hours_override_reason)}{_consent(visit)}",
            {
                "hours_override_reason": visit.hours_override_reason,
                "hours_override_consent": visit.hours_override_consent,
                "hours_override_by_id": _plain(visit.hours_override_by_id),
            },
            _sets("hours_override_reason"),
        )
    if visit.override_reason and visit.started_at is not None:
        yield _Draft(
            visit.started_at,
            DossierKind.START_OVERRIDE,
            "visit",
            str(visit.id),
            f"{text.who(visit.override_by_id)} started the visit without both check-ins: "
            f"{_short(visit.override_reason)}",
            {"override_reason": visit.override_reason, "override_by_id": _plain(visit.override_by_id)},
            _sets("override_reason"),
        )
    for check_in in visit.check_ins:
        yield _check_in(text, check_in)


def _check_in(text: _Text, check_in: CheckIn) -> _Draft:
    return _Draft(
        check_in.received_at,
        DossierKind.CHECK_IN,
        "check_in",
        str(check_in.id),
        f"{text.who(check_in.agent_id)} checked in {check_in.distance_m:.0f} m from the address "
        f"(fix accurate to {check_in.accuracy_m:.0f} m)",
        _fields(check_in),
    )


def _outcome(text: _Text, outcome: Outcome) -> _Draft:
    amendment, report = outcome.amends_id is not None, outcome.report
    parts = [
        f"{'Amendment ' + str(outcome.sequence) if amendment else 'Outcome'}: {_words(report.contact_result)}",
        f"promise {report.promise.amount} on {report.promise.date}" if report.promise else "",
        f"cash collected {report.cash_payment.amount}" if report.cash_payment else "",
        "suspected fake address" if report.signs_fake_address else "",
        f"submitted by {text.who(outcome.submitted_by_id)}",
        f"confirmed by {text.who(outcome.confirmed_by_id)}" if outcome.confirmed_by_id else "not confirmed yet",
    ]
    return _Draft(
        outcome.submitted_at,
        DossierKind.AMENDMENT if amendment else DossierKind.OUTCOME,
        "outcome",
        str(outcome.id),
        "; ".join(filter(None, parts)),
        _fields(outcome),
    )


def _approval(text: _Text, approval: CashApproval, currency: str) -> _Draft:
    allowed = (
        f"a cash payment of up to {approval.max_amount} {currency}"
        if approval.max_amount is not None
        else f"receiving {_short(approval.item_description)}"
    )
    return _Draft(
        approval.created_at,
        DossierKind.CASH_APPROVAL,
        "cash_approval",
        str(approval.id),
        f"{text.who(approval.approved_by_id)} approved {allowed}: {_short(approval.reason)}",
        _fields(approval),
    )


def _evidence(text: _Text, item: EvidenceItem) -> _Draft:
    flags = f", flagged {', '.join(item.flags)}" if item.flags else ""
    rejected = f" ({item.rejected_reason})" if item.rejected_reason else ""
    return _Draft(
        item.created_at,
        DossierKind.EVIDENCE,
        "evidence_item",
        str(item.id),
        f"{item.kind.value.title()} of the {_words(item.purpose)} by {text.who(item.declared_by_id)}: "
        f"{_words(item.status)}{rejected}{flags}; {item.size} bytes {item.content_type}, sha256 {item.sha256[:12]}…",
        _fields(item, "multipart_upload_id"),
    )


def _report(text: _Text, report: AddressReport, addresses: dict[UUID, str]) -> Iterator[_Draft]:
    by = text.who(report.reported_by_id) if report.reported_by_id else f"the {_words(report.raised_by)}"
    note = f": {_short(report.note)}" if report.note else ""
    yield _Draft(
        report.created_at,
        DossierKind.ADDRESS_REPORT,
        "address_report",
        str(report.id),
        f"{_short(addresses.get(report.address_id, str(report.address_id)))} reported {_words(report.reason)} by "
        f"{by}{note}",
        _fields(report),
    )
    if report.decided_at is not None:
        decision_note = f": {_short(report.decision_note)}" if report.decision_note else ""
        yield _Draft(
            report.decided_at,
            DossierKind.ADDRESS_DECISION,
            "address_report",
            str(report.id),
            f"{text.who(report.decided_by_id)} {_words(report.status)} the report{decision_note}",
            {
                "status": _plain(report.status),
                "decided_by_id": _plain(report.decided_by_id),
                "decision_note": report.decision_note,
            },
            _sets("decided_by_id"),
        )


def _restriction(text: _Text, restriction: CaseRestriction, addresses: dict[UUID, str]) -> Iterator[_Draft]:
    times = (
        f" {restriction.time_from:%H:%M}–{restriction.time_until:%H:%M}"
        if restriction.time_from and restriction.time_until
        else ""
    )
    place = f" at {_short(addresses.get(restriction.address_id, ''))}" if restriction.address_id else ""
    until = f" until {restriction.ends_on}" if restriction.ends_on else ""
    note = f": {_short(restriction.note)}" if restriction.note else ""
    yield _Draft(
        restriction.set_at,
        DossierKind.RESTRICTION,
        "case_restriction",
        str(restriction.id),
        f"{text.who(restriction.set_by_id)} set {_words(restriction.flag)}{times}{place} from {restriction.starts_on}"
        f"{until}{note}",
        _fields(restriction),
    )
    if restriction.lifted_at is not None:
        yield _Draft(
            restriction.lifted_at,
            DossierKind.RESTRICTION_LIFTED,
            "case_restriction",
            str(restriction.id),
            f"{text.who(restriction.lifted_by_id)} lifted {_words(restriction.flag)}: "
            f"{_short(restriction.lift_reason)}",
            {"lifted_by_id": _plain(restriction.lifted_by_id), "lift_reason": restriction.lift_reason},
            _sets("lifted_by_id"),
        )


def _release(text: _Text, release: EligibilityRelease) -> _Draft:
    return _Draft(
        release.released_at,
        DossierKind.ELIGIBILITY_RELEASE,
        "eligibility_release",
        str(release.id),
        f"{text.who(release.released_by_id)} released a request from {_words(release.flag)}: {_short(release.reason)}",
        _fields(release),
    )


def _fields(row: Base, *leave_out: str) -> dict[str, Any]:
    """The row's columns as JSON keeps them."""
    return {
        attr.key: _plain(getattr(row, attr.key))
        for attr in inspect(row).mapper.column_attrs
        if attr.key not in leave_out
    }


def _plain(value: Any) -> Any:
    """Numbers, text, booleans and null as they are; moments in UTC with a Z; dates, times, amounts, ids and
    enumerations as text."""
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return str(value)  # Decimal, UUID


def _words(value: Enum | str) -> str:
    return str(value.value if isinstance(value, Enum) else value).replace("_", " ")


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"


# the printed dossier

KIND_LABELS = {
    DossierKind.VISIT_REQUEST: "外访申请 Visit request",
    DossierKind.SHEET_VERSION: "外访总表 Sheet version",
    DossierKind.SHEET_STOP: "外访站点 Sheet stop",
    DossierKind.VISIT: "外访 Visit",
    DossierKind.HOURS_OVERRIDE: "时间特批 Hours override",
    DossierKind.CHECK_IN: "签到 Check-in",
    DossierKind.START_OVERRIDE: "开始特批 Start override",
    DossierKind.CASH_APPROVAL: "现金审批 Cash approval",
    DossierKind.EVIDENCE: "证据 Evidence",
    DossierKind.OUTCOME: "外访结果 Outcome",
    DossierKind.AMENDMENT: "结果更正 Amendment",
    DossierKind.ADDRESS_REPORT: "地址报告 Address report",
    DossierKind.ADDRESS_DECISION: "主管决定 Decision",
    DossierKind.RESTRICTION: "限制 Restriction",
    DossierKind.RESTRICTION_LIFTED: "解除限制 Lifted",
    DossierKind.ELIGIBILITY_RELEASE: "特批放行 Release",
}
COLUMNS = ("时间 Time", "记录 Record", "内容 Summary", "审计链 Audit")
WARNING_STYLE = ParagraphStyle("dossier-warning", parent=TEXT_STYLE, textColor=colors.red, fontSize=11, leading=15)
COLUMN_SHARES = (0.14, 0.15, 0.53, 0.18)  # of the text width


def render_pdf(dossier: DossierRead) -> bytes:
    """An A4 PDF of the dossier: the case, the audit chain's state, and a table of the records in time order (in the
    branch's time zone) with the chain rows each cites. Raises SheetFontMissing when the font is not installed."""
    register_font()
    buffer = io.BytesIO()
    document = a4_document(buffer, dossier_title(dossier))
    footer = _page_footer(dossier)
    story = [*_header(dossier), Spacer(0, 4 * mm), _records_table(dossier, document.width)]
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def dossier_title(dossier: DossierRead) -> str:
    return f"案件档案 Case dossier {dossier.case.reference} {dossier.case.debtor_name}"


def _local(dossier: DossierRead, moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(dossier.case.timezone)).strftime("%Y-%m-%d %H:%M:%S")


def _header(dossier: DossierRead) -> list[Flowable]:
    case, chain = dossier.case, dossier.audit_chain
    lines = (
        f"{case.reference}  ·  {case.debtor_name}  ·  {case.debtor_id_number_masked}",
        f"{case.branch_name}  ·  欠款 Owed {case.amount_owed:.2f} {case.currency}  ·  "
        f"{len(dossier.records)} 条记录 records",
        f"生成 Generated {_local(dossier, dossier.generated_at)} ({case.timezone})",
        f"审计链 Audit chain head #{chain.head_seq} {chain.head_hash}  ·  "
        + ("核验通过 verified" if chain.verified else f"核验失败 NOT verified from #{chain.broken_seq}"),
    )
    warnings = [paragraph(f"【警告 Warning】{warning.message}", WARNING_STYLE) for warning in dossier.warnings]
    return [
        paragraph("案件档案 Case dossier", TITLE_STYLE),
        *warnings,
        *(paragraph(line, TEXT_STYLE) for line in lines),
    ]


def _records_table(dossier: DossierRead, width_pt: float) -> Table:
    rows: list[list[Flowable | list[Flowable]]] = [[paragraph(label) for label in COLUMNS]]
    rows += [
        [
            paragraph(_local(dossier, record.at)),
            paragraph(KIND_LABELS[record.kind]),
            [paragraph(record.summary), *(paragraph(note, NOTE_STYLE) for note in _notes(record))],
            Paragraph("<br/>".join(f"#{p.seq} {p.hash[:10]}" for p in record.audit) or "-", NOTE_STYLE),
        ]
        for record in dossier.records
    ]
    return ruled_table(rows, [share * width_pt for share in COLUMN_SHARES])


def _notes(record: DossierRecord) -> list[str]:
    """What the printed row adds to the summary: an evidence item's whole hash and where its bytes are."""
    if record.kind is not DossierKind.EVIDENCE:
        return []
    data = record.data
    return [
        f"sha256 {data['sha256']}",
        f"{data['content_type']}, {data['size']} bytes, {data['storage_backend']}: {data['storage_key']}",
    ]


def _page_footer(dossier: DossierRead) -> Callable[[Canvas, SimpleDocTemplate], None]:
    """Each page says whose dossier it is and which chain head it was made against."""
    text = f"{dossier.case.reference}  ·  案件档案 Case dossier  ·  audit head #{dossier.audit_chain.head_seq}"

    def draw(canvas: Canvas, document: SimpleDocTemplate) -> None:
        page = canvas.getPageNumber()
        canvas.setFont(FONT, 8)
        canvas.drawString(document.leftMargin, 10 * mm, f"{text}  ·  第 {page} 页 page {page}")

    return draw
