from datetime import date
from decimal import Decimal
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, PlainSerializer, Strict, WithJsonSchema

from api.geo import GeoPoint
from api.models.cases import (
    Address,
    AddressKind,
    AddressValidity,
    ContactKind,
    ContactSource,
    ContactStatus,
    DebtCase,
    InvalidReason,
    OverdueBucket,
)
from api.rules.grades import (
    AddressGrade,
    GeocodeOutcome,
    PointSource,
    Precision,
    geocode_label,
    point_trusted,
)
from api.rules.packs import CaseFlag
from api.schemas import Body, FromJson, Instant, LocalTime, Patch, Read

# ISO 7064 MOD 11-2 as GB 11643 applies it: weight 2^(17-i) mod 11 for the 17 digits, and the remainder picks the check
_ID_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]
_ID_CHECK_CODES = "10X98765432"


def _check_digit(value: str) -> str:
    """The shape is checked by the pattern; this checks the 18th character of a second-generation number."""
    if len(value) == 15:
        return value  # first-generation cards (before 1999) have no check digit
    body, check = value[:17], value[17]
    expected = _ID_CHECK_CODES[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]
    if check != expected:
        raise ValueError(f"check digit is {check}, but the first 17 digits give {expected}")
    return value


def mask_id_number(value: str) -> str:
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


# amounts come as JSON numbers or as decimal strings (which keep every digit); never as booleans
def number_or_string(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ValueError("must be a number or a decimal string")
    return value


Reference = Annotated[
    str, Field(min_length=1, max_length=64, description="The creditor's reference, unique in the branch.")
]
DebtorName = Annotated[str, Field(min_length=1, max_length=120)]
IdNumber = Annotated[
    str,
    Field(
        pattern=r"^([0-9]{17}[0-9X]|[0-9]{15})$",
        description="PRC resident ID number: 18 characters with a valid check digit, or a legacy 15-digit number.",
    ),
    AfterValidator(_check_digit),
]
Amount = Annotated[
    Decimal,
    Field(
        ge=0, max_digits=14, decimal_places=2, description="Amount owed, a number or a decimal string, e.g. `12345.67`."
    ),
    Strict(False),
    BeforeValidator(number_or_string),
]
AmountText = Annotated[
    Decimal,
    PlainSerializer(lambda amount: f"{amount:.2f}", return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+\.[0-9]{2}$"}),
    Field(description="Amount owed as a decimal string with two places, e.g. `12345.67`."),
]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. CNY.")]
Bucket = FromJson[OverdueBucket]
CaseNotes = Annotated[str, Field(max_length=4000)]
Phone = Annotated[
    str,
    Field(
        pattern=r"^\+?[0-9]{5,20}$",
        description="Digits only, optionally after a leading `+`; 5 to 20 digits, no spaces or dashes.",
    ),
]
Kind = FromJson[ContactKind]
Status = FromJson[ContactStatus]
Holder = Annotated[str, Field(max_length=120, description="Whose line it is, when not the debtor's (e.g. 母亲).")]
Notes = Annotated[str, Field(max_length=2000)]
AddressText = Annotated[str, Field(min_length=1, max_length=500, description="The address as written.")]
AddressKindField = FromJson[AddressKind]
Validity = FromJson[AddressValidity]
Reason = FromJson[InvalidReason]
INVALID_VALIDITIES = frozenset({AddressValidity.REPORTED_INVALID, AddressValidity.CONFIRMED_INVALID})


class CaseCreate(Body):
    """A new debt case of a branch (an admin names the branch)."""

    branch_id: FromJson[UUID] | None = Field(
        default=None, description="The case's branch (admins only; others: their own)."
    )
    reference: Reference
    debtor_name: DebtorName
    debtor_id_number: IdNumber
    amount_owed: Amount
    currency: Currency = "CNY"
    overdue_bucket: Bucket
    complaint_history: bool = Field(default=False, description="The debtor has complained before: visit with care.")
    phone_collector_id: FromJson[UUID] | None = Field(
        default=None, description="An active phone collector of the branch."
    )
    notes: CaseNotes = ""


class CaseUpdate(Patch):
    """Changes to a case; members left out keep their value. A phone collector may change only `notes`."""

    nullable: ClassVar[frozenset[str]] = frozenset({"phone_collector_id"})

    reference: Reference | None = None
    debtor_name: DebtorName | None = None
    debtor_id_number: IdNumber | None = None
    amount_owed: Amount | None = None
    currency: Currency | None = None
    overdue_bucket: Bucket | None = None
    complaint_history: bool | None = None
    phone_collector_id: FromJson[UUID] | None = Field(
        default=None, description="`null` takes the case from its collector."
    )
    notes: CaseNotes | None = None


class CaseRead(Read):
    """A debt case. The debtor's ID number is shown masked only."""

    id: UUID
    branch_id: UUID
    reference: str
    debtor_name: str
    debtor_id_number_masked: str = Field(
        description="First 3 and last 4 characters of the ID number, e.g. 110***********002X."
    )
    amount_owed: AmountText
    currency: str
    overdue_bucket: OverdueBucket
    complaint_history: bool
    phone_collector_id: UUID | None
    notes: str
    created_at: Instant
    updated_at: Instant

    @classmethod
    def from_row(cls, case: DebtCase) -> "CaseRead":
        return cls(
            id=case.id,
            branch_id=case.branch_id,
            reference=case.reference,
            debtor_name=case.debtor_name,
            debtor_id_number_masked=mask_id_number(case.debtor_id_number),
            amount_owed=case.amount_owed,
            currency=case.currency,
            overdue_bucket=case.overdue_bucket,
            complaint_history=case.complaint_history,
            phone_collector_id=case.phone_collector_id,
            notes=case.notes,
            created_at=case.created_at,
            updated_at=case.updated_at,
        )


class ContactCreate(Body):
    """A phone number of a debtor or of someone who can reach them."""

    phone: Phone
    kind: Kind
    status: Status = ContactStatus.UNVERIFIED
    holder: Holder = ""
    notes: Notes = ""


class ContactUpdate(Patch):
    """Changes to a contact; members left out keep their value."""

    phone: Phone | None = None
    kind: Kind | None = None
    status: Status | None = None
    holder: Holder | None = None
    notes: Notes | None = None


class ContactRead(Read):
    """A phone number of a case, with what is known about it."""

    id: UUID
    case_id: UUID
    phone: str
    kind: ContactKind
    status: ContactStatus
    source: ContactSource
    holder: str
    notes: str
    created_at: Instant
    updated_at: Instant


ElderlyResident = Annotated[
    bool, Field(description="Elderly people live here: the visit is flagged for extra care and needs a note.")
]


class AddressCreate(Body):
    """An address of a debtor; give `invalid_reason` exactly when the validity is reported or confirmed invalid."""

    kind: AddressKindField
    raw_text: AddressText
    point: GeoPoint | None = Field(default=None, description="Where the address is, if known.")
    validity: Validity = AddressValidity.UNVERIFIED
    invalid_reason: Reason | None = None
    invalid_note: Notes = ""
    elderly_resident: ElderlyResident = False


class AddressUpdate(Patch):
    """Changes to an address; members left out keep their value. Only managers confirm an address invalid or
    revoke that confirmation."""

    nullable: ClassVar[frozenset[str]] = frozenset({"point", "invalid_reason"})

    kind: AddressKindField | None = None
    raw_text: AddressText | None = None
    point: GeoPoint | None = Field(default=None, description="`null` forgets the position.")
    validity: Validity | None = None
    invalid_reason: Reason | None = Field(default=None, description="`null` when the address is not invalid.")
    invalid_note: Notes | None = None
    elderly_resident: ElderlyResident | None = None


class AddressParts(BaseModel):
    """The address's text split into its parts (only those found)."""

    province: str | None = None
    city: str | None = None
    district: str | None = None
    adcode: str | None = Field(default=None, description="The district's 6-digit administrative division code.")
    town: str | None = Field(default=None, description="街道, 镇 or 乡.")
    road: str | None = None
    lane: str | None = Field(default=None, description="弄.")
    number: str | None = Field(default=None, description="The house number (号) on the road or lane.")
    compound: str | None = Field(default=None, description="小区, 村, 花园 …")
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    vague_markers: list[str] = Field(default=[], description="附近, 对面, 拆迁 … : what makes the text vague.")


class AddressPoint(BaseModel):
    """Where the address's point came from and how far planning trusts it."""

    source: PointSource = Field(description="The case's data, a geocoder, a supervisor, or two check-ins at the door.")
    precision: Precision | None = Field(description="How precise the geocoder's match is (geocoder points).")
    provider: str = Field(description="The geocoder's name (geocoder points), else empty.")
    accuracy_m: float | None = Field(description="The check-ins' accuracy (points verified at the door).")
    set_at: Instant
    set_by_id: UUID | None = Field(description="The person who set it, if a person did.")
    trusted: bool = Field(description="Whether planning routes to it: a geocoder's match coarser than the text is not.")

    @classmethod
    def of(cls, address: Address) -> "AddressPoint | None":
        if address.point_source is None or address.point_set_at is None:
            return None
        return cls(
            source=address.point_source,
            precision=address.point_precision,
            provider=address.point_provider,
            accuracy_m=address.point_accuracy_m,
            set_at=address.point_set_at,
            set_by_id=address.point_set_by_id,
            trusted=point_trusted(address.point_source, address.grade, address.point_precision),
        )


class AddressGeocode(BaseModel):
    """How the address's last geocoding attempt ended and, when no provider answered, why."""

    outcome: GeocodeOutcome = Field(
        description="placed, coarse_match, no_match; or why no provider answered: outage, rate_limited, key_refused, "
        "quota_exhausted, provider_error."
    )
    label: str = Field(description="The outcome in words with its code, e.g. 密钥被拒 key refused (key_refused).")
    detail: str = Field(description="The providers' own words, e.g. amap: INVALID_USER_KEY (infocode 10001).")
    at: Instant

    @classmethod
    def of(cls, address: Address) -> "AddressGeocode | None":
        if address.geocode_outcome is None or address.geocoded_at is None:
            return None
        return cls(
            outcome=address.geocode_outcome,
            label=geocode_label(address.geocode_outcome),
            detail=address.geocode_detail,
            at=address.geocoded_at,
        )


class AddressRead(Read):
    """An address of a case, where it is and whether it can be visited."""

    id: UUID
    case_id: UUID
    kind: AddressKind
    raw_text: str
    grade: AddressGrade = Field(description="How far down the text reaches: complete (a door) … vague, unparseable.")
    parts: AddressParts
    point: GeoPoint | None = Field(description="Where the address is, null until geocoded.")
    point_origin: AddressPoint | None = Field(description="Where the point came from; null without a point.")
    last_geocode: AddressGeocode | None = Field(description="The last geocoding attempt; null if never geocoded.")
    source: ContactSource
    validity: AddressValidity
    invalid_reason: InvalidReason | None
    invalid_note: str
    elderly_resident: ElderlyResident
    created_at: Instant
    updated_at: Instant

    @classmethod
    def from_row(cls, address: Address) -> "AddressRead":
        return cls(
            id=address.id,
            case_id=address.case_id,
            kind=address.kind,
            raw_text=address.raw_text,
            grade=address.grade,
            parts=AddressParts.model_validate(address.parts),
            point=GeoPoint.from_wkb(address.point),
            point_origin=AddressPoint.of(address),
            last_geocode=AddressGeocode.of(address),
            source=address.source,
            validity=address.validity,
            invalid_reason=address.invalid_reason,
            invalid_note=address.invalid_note,
            elderly_resident=address.elderly_resident,
            created_at=address.created_at,
            updated_at=address.updated_at,
        )


class RestrictionCreate(Body):
    """A restriction on visiting a case, as the debtor or the file says: an open complaint, an attorney, a
    particularly vulnerable debtor, a bereavement, or `inconvenient` times (local at the address) and/or an address."""

    flag: FromJson[CaseFlag]
    note: Notes = Field(default="", description="What is known, e.g. the attorney's name or what the debtor said.")
    starts_on: FromJson[date] | None = Field(
        default=None, description="The first day it is in force; defaults to today at the branch."
    )
    ends_on: FromJson[date] | None = Field(
        default=None,
        description="The last day it is in force; null: until lifted (a bereavement: the pack's quiet days).",
    )
    time_from: LocalTime | None = Field(
        default=None, description="`inconvenient` only: the start of the inconvenient time, at the address."
    )
    time_until: LocalTime | None = Field(default=None, description="Its end, after time_from; give both or neither.")
    address_id: FromJson[UUID] | None = Field(
        default=None,
        description="`inconvenient` only: an address of the case not to visit (with times: not then).",
    )


class RestrictionLift(Body):
    """Why a restriction no longer holds."""

    reason: Annotated[str, Field(min_length=1, max_length=2000, pattern=r"\S", description="Not blank.")]


class RestrictionRead(Read):
    """A restriction on visiting a case, who set it and when, and who lifted it (null while it holds)."""

    id: UUID
    case_id: UUID
    flag: CaseFlag
    note: str
    starts_on: date
    ends_on: date | None
    time_from: LocalTime | None
    time_until: LocalTime | None
    address_id: UUID | None
    set_by_id: UUID
    set_at: Instant
    lifted_by_id: UUID | None
    lifted_at: Instant | None
    lift_reason: str
