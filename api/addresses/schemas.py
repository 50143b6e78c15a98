from datetime import date
from uuid import UUID

from pydantic import BaseModel, Field

from api.geo import GeoPoint
from api.models.address_reports import AddressProblem
from api.schemas import Body, FromJson


class AddressPointPut(Body):
    """Where the address really is, as a supervisor places it."""

    point: GeoPoint


class PrecheckCreate(Body):
    """Check the addresses due on a day (the branch's local date) before it is planned."""

    work_date: FromJson[date]
    branch_id: FromJson[UUID] | None = Field(default=None, description="Admins name the branch; others check theirs.")


class PrecheckRead(BaseModel):
    """What the pre-check found: the new reports wait in the invalid-address queue for a supervisor."""

    branch_id: UUID
    work_date: date
    addresses_checked: int = Field(description="Addresses due that day that were checked.")
    already_waiting: int = Field(description="Addresses due that day already reported or confirmed invalid.")
    reports_raised: dict[AddressProblem, int] = Field(description="New reports, by the problem found.")
    report_ids: list[UUID] = Field(description="The new reports, in /invalid-address-reports.")
