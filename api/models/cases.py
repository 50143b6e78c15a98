from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from geoalchemy2 import WKBElement, WKTElement
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Numeric,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, synonym, validates

from api.db import Base, UtcDateTime, utcnow
from api.enums import enum_column_type
from api.geo import point_column_type
from api.rules.grades import AddressGrade, AddressValidity, GeocodeOutcome, PointSource, Precision
from api.rules.grading import describe
from api.rules.packs import CaseFlag
from api.rules.plannability import Plannability, plannable


class OverdueBucket(StrEnum):
    """Months past due: M1 is 1–30 days overdue, M2 31–60 … M6+ more than 150 days."""

    M1 = "M1"
    M2 = "M2"
    M3 = "M3"
    M4 = "M4"
    M5 = "M5"
    M6_PLUS = "M6+"


class ContactKind(StrEnum):
    """Whose phone line this is: the debtor's mobile, home or work line, a family member's, or another."""

    MOBILE = "mobile"
    HOME = "home"
    WORK = "work"
    FAMILY = "family"
    OTHER = "other"


class ContactStatus(StrEnum):
    """What is known of the number: not yet tried, verified to reach the person, unreachable, or a wrong number."""

    UNVERIFIED = "unverified"
    VERIFIED = "verified"
    UNREACHABLE = "unreachable"
    WRONG_NUMBER = "wrong_number"


class ContactSource(StrEnum):
    """Where a contact or address came from: the creditor's case file (import), a phone collector, a field visit."""

    CASE_FILE = "case_file"
    PHONE_COLLECTOR = "phone_collector"
    FIELD_VISIT = "field_visit"


class AddressKind(StrEnum):
    """What the address is to the debtor."""

    HOME = "home"
    WORK = "work"
    HOMETOWN = "hometown"
    OTHER = "other"


class InvalidReason(StrEnum):
    """Why an address cannot be visited."""

    DEMOLISHED = "demolished"
    VAGUE = "vague"
    INCOMPLETE = "incomplete"
    NONEXISTENT = "nonexistent"
    OTHER = "other"


class DebtCase(Base):
    __tablename__ = "debt_case"
    __table_args__ = (
        UniqueConstraint("branch_id", "reference"),
        CheckConstraint("amount_owed >= 0", name="amount_owed_not_negative"),
        ForeignKeyConstraint(["phone_collector_id", "branch_id"], ["app_user.id", "app_user.branch_id"]),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    branch_id: Mapped[UUID] = mapped_column(ForeignKey("branch.id"), index=True)
    reference: Mapped[str] = mapped_column(String(64))
    debtor_name: Mapped[str] = mapped_column(String(120))
    debtor_id_number: Mapped[str] = mapped_column(String(18))
    amount_owed: Mapped[Decimal] = mapped_column(Numeric(14, 2, asdecimal=True))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    overdue_bucket: Mapped[OverdueBucket] = mapped_column(enum_column_type(OverdueBucket, "overdue_bucket"))
    complaint_history: Mapped[bool] = mapped_column(Boolean(), default=False)
    phone_collector_id: Mapped[UUID | None] = mapped_column(index=True)
    notes: Mapped[str] = mapped_column(Text(), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    contacts: Mapped[list["DebtorContact"]] = relationship(back_populates="case", order_by="DebtorContact.created_at")
    addresses: Mapped[list["Address"]] = relationship(back_populates="case", order_by="Address.created_at")


class DebtorContact(Base):
    __tablename__ = "debtor_contact"
    __table_args__ = (UniqueConstraint("case_id", "phone"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    case_id: Mapped[UUID] = mapped_column(ForeignKey("debt_case.id"), index=True)
    phone: Mapped[str] = mapped_column(String(32))
    kind: Mapped[ContactKind] = mapped_column(enum_column_type(ContactKind, "contact_kind"))
    status: Mapped[ContactStatus] = mapped_column(
        enum_column_type(ContactStatus, "contact_status"), default=ContactStatus.UNVERIFIED
    )
    source: Mapped[ContactSource] = mapped_column(enum_column_type(ContactSource, "contact_source"))
    holder: Mapped[str] = mapped_column(String(120), default="")
    notes: Mapped[str] = mapped_column(Text(), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    case: Mapped[DebtCase] = relationship(back_populates="contacts")


class Address(Base):
    __tablename__ = "address"
    __table_args__ = (
        UniqueConstraint("id", "case_id"),
        CheckConstraint(
            "(validity IN ('reported_invalid', 'confirmed_invalid')) = (invalid_reason IS NOT NULL)",
            name="invalid_reason_iff_invalid",
        ),
        Index("ix_address_point_geog", text("geography(point)"), postgresql_using="gist").ddl_if(dialect="postgresql"),
        CheckConstraint("(point IS NULL) = (point_source IS NULL)", name="point_has_source"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    case_id: Mapped[UUID] = mapped_column(ForeignKey("debt_case.id"), index=True)
    kind: Mapped[AddressKind] = mapped_column(enum_column_type(AddressKind, "address_kind"))
    raw_text: Mapped[str] = mapped_column(String(500))
    grade: Mapped[AddressGrade] = mapped_column(enum_column_type(AddressGrade, "address_grade"))
    parts: Mapped[dict[str, Any]] = mapped_column(JSON(), default=dict)  # the parsed text: province … room
    point: Mapped[WKBElement | WKTElement | None] = mapped_column(point_column_type(spatial_index=True))
    point_source: Mapped[PointSource | None] = mapped_column(enum_column_type(PointSource, "point_source"))
    point_precision: Mapped[Precision | None] = mapped_column(enum_column_type(Precision, "point_precision"))
    point_provider: Mapped[str] = mapped_column(String(40), default="")  # the geocoder's name
    point_accuracy_m: Mapped[float | None] = mapped_column(Double())  # the check-ins' accuracy, for a door point
    point_set_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    point_set_by_id: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id"))
    # the last geocoding attempt: how it ended, the providers' own words, when
    geocode_outcome: Mapped[GeocodeOutcome | None] = mapped_column(enum_column_type(GeocodeOutcome, "geocode_outcome"))
    geocode_detail: Mapped[str] = mapped_column(Text(), default="", server_default="")
    geocoded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    source: Mapped[ContactSource] = mapped_column(enum_column_type(ContactSource, "address_source"))
    validity: Mapped[AddressValidity] = mapped_column(
        enum_column_type(AddressValidity, "address_validity"), default=AddressValidity.UNVERIFIED
    )
    invalid_reason: Mapped[InvalidReason | None] = mapped_column(enum_column_type(InvalidReason, "invalid_reason"))
    invalid_note: Mapped[str] = mapped_column(Text(), default="")
    elderly_resident: Mapped[bool] = mapped_column(Boolean(), default=False)  # care flag: approach with extra care
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    case: Mapped[DebtCase] = relationship(back_populates="addresses")

    @validates("raw_text")
    def _graded(self, _: str, raw_text: str) -> str:
        """The grade and parts are the text's, always: set with it."""
        grade, parts = describe(raw_text)
        self.grade, self.parts = grade, parts.as_dict()
        return raw_text

    def place(
        self,
        point_wkt: WKTElement | WKBElement | None,
        source: PointSource,
        *,
        precision: Precision | None = None,
        provider: str = "",
        accuracy_m: float | None = None,
        by_id: UUID | None = None,
    ) -> None:
        """Set (or clear, with None) the point, saying where it came from."""
        self.point = point_wkt
        placed = point_wkt is not None
        self.point_source = source if placed else None
        self.point_precision = precision if placed else None
        self.point_provider = provider if placed else ""
        self.point_accuracy_m = accuracy_m if placed else None
        self.point_set_by_id = by_id if placed else None
        self.point_set_at = utcnow() if placed else None

    def plannability(
        self, *, pending: bool = True, due: tuple[date, date] | None = None, work_date: date | None = None
    ) -> Plannability:
        """Whether a request at this address may be planned (`api.rules.plannability`); the request's own facts
        when the caller asks about them too."""
        return plannable(
            validity=self.validity,
            located=self.point is not None,
            point_source=self.point_source,
            grade=self.grade,
            precision=self.point_precision,
            pending=pending,
            due=due,
            work_date=work_date,
        )


class CaseRestriction(Base):
    """A flag on a case that may keep it from the field (see `api.rules.eligibility`): who set it and when, and
    who lifted it, when and why. An `inconvenient` one names times (local at the address) and/or an address."""

    __tablename__ = "case_restriction"
    __table_args__ = (
        ForeignKeyConstraint(["address_id", "case_id"], ["address.id", "address.case_id"]),
        CheckConstraint("ends_on IS NULL OR starts_on <= ends_on", name="date_order"),
        CheckConstraint("(time_from IS NULL AND time_until IS NULL) OR (time_from < time_until)", name="time_order"),
        CheckConstraint(
            "flag = 'inconvenient' OR (time_from IS NULL AND address_id IS NULL)", name="place_only_inconvenient"
        ),
        CheckConstraint(
            "flag != 'inconvenient' OR time_from IS NOT NULL OR address_id IS NOT NULL", name="inconvenient_says_what"
        ),
        CheckConstraint(
            "(lifted_at IS NULL AND lifted_by_id IS NULL AND lift_reason = '')"
            " OR (lifted_at IS NOT NULL AND lifted_by_id IS NOT NULL AND lift_reason != '')",
            name="lifted_with_reason",
        ),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    case_id: Mapped[UUID] = mapped_column(ForeignKey("debt_case.id"), index=True)
    flag: Mapped[CaseFlag] = mapped_column(enum_column_type(CaseFlag, "case_flag"))
    note: Mapped[str] = mapped_column(Text(), default="")
    starts_on: Mapped[date] = mapped_column(Date())
    ends_on: Mapped[date | None] = mapped_column(Date())
    time_from: Mapped[time | None] = mapped_column(Time())
    time_until: Mapped[time | None] = mapped_column(Time())
    address_id: Mapped[UUID | None] = mapped_column()
    set_by_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id"))
    set_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    lifted_by_id: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    lift_reason: Mapped[str] = mapped_column(Text(), default="")

    created_at = synonym("set_at")  # lists page by it
