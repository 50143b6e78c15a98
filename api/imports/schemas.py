"""What an import of a case file answers."""

from uuid import UUID

from pydantic import Field

from api.imports.case_file import FileFormat
from api.rules.grades import AddressGrade
from api.schemas import Read


class ImportSummary(Read):
    """What an import of a case file created."""

    file_format: FileFormat = Field(description="How the file was read: CSV in UTF-8 or GB18030 (GBK), or .xlsx.")
    branch_id: UUID
    cases: int
    contacts: int
    addresses: int
    visit_requests: int
    addresses_without_point: int = Field(description="Geocoded in the background when a geocoder is set.")
    grades: dict[AddressGrade, int] = Field(description="The imported addresses by grade.")
