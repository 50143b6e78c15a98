"""Every table, imported once so that ``Base.metadata`` is complete (Alembic and the app import this)."""

from api.db import Base
from api.models.address_reports import AddressReport
from api.models.addresses import GeocodeAnswer
from api.models.audit import AuditEvent, AuditHead
from api.models.auth import RefreshToken
from api.models.branches import Branch
from api.models.cases import Address, CaseRestriction, DebtCase, DebtorContact
from api.models.findings import Finding
from api.models.idempotency import IdempotencyRecord
from api.models.jobs import JobLease
from api.models.payments import Payment, Promise
from api.models.sheets import PlanEdit, PlanningRun, SheetStop, UnplannedRequest, VisitSheet
from api.models.teams import Team, TeamMember
from api.models.third_parties import ThirdPartyInquiry
from api.models.tracks import PositionFix, Track, TrackAlert
from api.models.traffic import PricedLeg, TravelCalibration
from api.models.users import User
from api.models.visit_evidence import EvidenceItem
from api.models.visit_requests import EligibilityRelease, VisitRequest
from api.models.visits import CashApproval, CheckIn, DepartureCheck, Outcome, Visit, VisitPresence
from api.models.webhooks import WebhookDelivery, WebhookSubscription

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
    "JobLease",
    "Outcome",
    "Payment",
    "PlanEdit",
    "PlanningRun",
    "PositionFix",
    "PricedLeg",
    "Promise",
    "RefreshToken",
    "SheetStop",
    "Team",
    "TeamMember",
    "ThirdPartyInquiry",
    "Track",
    "TrackAlert",
    "TravelCalibration",
    "UnplannedRequest",
    "User",
    "Visit",
    "VisitPresence",
    "VisitRequest",
    "VisitSheet",
    "WebhookDelivery",
    "WebhookSubscription",
]
