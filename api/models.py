"""Every table, imported once so that ``Base.metadata`` is complete (Alembic and the app import this)."""

from api.address_reports.models import AddressReport
from api.addresses.models import GeocodeAnswer
from api.audit.models import AuditEvent, AuditHead
from api.auth.models import RefreshToken
from api.branches.models import Branch
from api.cases.models import Address, CaseRestriction, DebtCase, DebtorContact
from api.db import Base
from api.findings.models import Finding
from api.idempotency import IdempotencyRecord
from api.sheets.models import PlanEdit, PlanningRun, SheetStop, UnplannedRequest, VisitSheet
from api.teams.models import Team, TeamMember
from api.third_parties.models import ThirdPartyInquiry
from api.tracks.models import PositionFix, Track, TrackAlert
from api.users.models import User
from api.visit_evidence.models import EvidenceItem
from api.visit_requests.models import EligibilityRelease, VisitRequest
from api.visits.models import CashApproval, CheckIn, DepartureCheck, Outcome, Visit, VisitPresence
from api.webhooks.models import WebhookDelivery, WebhookSubscription

__all__ = [
    "Address",
    "AddressReport",
    "AuditEvent",
    "AuditHead",
    "Base",
    "Branch",
    "CaseRestriction",
    "CashApproval",
    "CheckIn",
    "DebtCase",
    "DebtorContact",
    "DepartureCheck",
    "EligibilityRelease",
    "EvidenceItem",
    "Finding",
    "GeocodeAnswer",
    "IdempotencyRecord",
    "Outcome",
    "PlanEdit",
    "PlanningRun",
    "PositionFix",
    "RefreshToken",
    "SheetStop",
    "Team",
    "TeamMember",
    "ThirdPartyInquiry",
    "Track",
    "TrackAlert",
    "UnplannedRequest",
    "User",
    "Visit",
    "VisitPresence",
    "VisitRequest",
    "VisitSheet",
    "WebhookDelivery",
    "WebhookSubscription",
]
