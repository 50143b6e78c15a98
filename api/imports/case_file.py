"""An uploaded case file as numbered lines of text cells: a CSV file in UTF-8 or GB18030 (which GBK and GB2312 are
part of: what Excel saves as CSV in China), or the first worksheet of an .xlsx workbook, its cells as the CSV would
have them. Nothing is guessed past that: text that does not decode strictly is refused, never replaced.

Without a declared charset a CSV file is UTF-8 if it decodes as UTF-8, else GB18030 if it decodes as GB18030: Chinese
text in GBK is practically never valid UTF-8, and the two are the only encodings accepted, so a detector's guess
(e.g. charset-normalizer's, among dozens of encodings) would add nothing but a chance of a third answer."""

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from openpyxl import load_workbook
from openpyxl.cell.read_only import ReadOnlyCell
from pydantic import ValidationError

from api.problems import Problem, ValidationFailed, problem_members

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv"
# an .xlsx is zipped XML: its parts may unpack to this much (about 20 times a full-size file's worth)
MAX_XLSX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_XLSX_ROWS = 100_000  # a 5 MiB CSV file holds some 20 000 rows
MAX_XLSX_CELLS = 2_000_000  # 20 columns of them

ZIP_MAGIC = b"PK\x03\x04"
# Excel 97-2003 (.xls) files and password-protected .xlsx files are both OLE2 compound files
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_OOXML = "EncryptionInfo".encode("utf-16-le")  # the stream an encrypted workbook's container names
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s/>]")  # a cell's formula element in a worksheet part


class FileFormat(StrEnum):
    """How an imported file was read: CSV text in UTF-8 or in GB18030 (GBK), or an .xlsx workbook."""

    CSV_UTF_8 = "csv-utf-8"
    CSV_GB18030 = "csv-gb18030"
    XLSX = "xlsx"


_ENCODINGS = {FileFormat.CSV_UTF_8: "utf-8-sig", FileFormat.CSV_GB18030: "gb18030"}
# declared charsets by their codec's name; GBK and GB2312 data are read as GB18030, which contains both
_CHARSETS = {
    "utf-8": FileFormat.CSV_UTF_8,
    "gb18030": FileFormat.CSV_GB18030,
    "gbk": FileFormat.CSV_GB18030,
    "gb2312": FileFormat.CSV_GB18030,
}
ACCEPTED_CHARSETS = list(_CHARSETS)


class CsvEncodingNotAccepted(ValidationFailed):
    title = "The CSV file is not in an accepted encoding"
    slug = "csv-encoding-not-accepted"
    members = problem_members(
        accepted=(list[str], "The charsets a CSV file may be in (GBK and GB2312 files are read as GB18030)."),
    )


class XlsxNotReadable(ValidationFailed):
    title = "The workbook cannot be read"
    slug = "xlsx-not-readable"


class CsvRejected(ValidationFailed):
    title = "The file has errors; nothing was imported"
    slug = "csv-rejected"


@dataclass(frozen=True, slots=True)
class CaseFile:
    """The file's non-blank lines, each with its number (0: the file's first line or the sheet's first row)."""

    format: FileFormat
    lines: list[tuple[int, list[str]]]


def file_rejected(detail: str) -> CsvRejected:
    return CsvRejected(detail, errors=[{"row": None, "column": None, "detail": detail}])


def read_case_file(raw: bytes, media_type: str = CSV_MEDIA_TYPE, charset: str | None = None) -> CaseFile:
    """Read an uploaded file: an .xlsx workbook by its zip signature, else CSV text in the charset given or found."""
    if raw.startswith(OLE2_MAGIC):
        raise _ole2_refused(raw)
    if raw.startswith(ZIP_MAGIC):
        return CaseFile(FileFormat.XLSX, _xlsx_lines(raw))
    if media_type == XLSX_MEDIA_TYPE:
        raise XlsxNotReadable("The file is not an .xlsx workbook (a zip archive); send a CSV file as text/csv.")
    file_format, text = _decode_csv(raw, charset)
    return CaseFile(file_format, _csv_lines(text))


def _decode_csv(raw: bytes, charset: str | None = None) -> tuple[FileFormat, str]:
    """The text of a CSV file in the charset declared, or in UTF-8 (with or without BOM) else GB18030."""
    accepted = {"accepted": ACCEPTED_CHARSETS}
    if charset is None:
        for file_format, encoding in _ENCODINGS.items():
            try:
                return file_format, raw.decode(encoding).removeprefix("\ufeff")
            except UnicodeDecodeError:
                continue
        raise CsvEncodingNotAccepted(
            "The file is neither UTF-8 nor GB18030 (GBK) text; save it as CSV UTF-8, or send the .xlsx file.",
            **accepted,
        )
    declared = _declared_format(charset)
    if declared is None:
        raise CsvEncodingNotAccepted(f"charset={charset} is not accepted; send UTF-8 or GB18030 (GBK).", **accepted)
    try:
        return declared, raw.decode(_ENCODINGS[declared]).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise CsvEncodingNotAccepted(
            f"Byte {exc.start} is not {charset} text; send the file in the charset it is in, or without a charset.",
            **accepted,
        ) from exc


def _declared_format(charset: str) -> FileFormat | None:
    try:
        return _CHARSETS.get(codecs.lookup(charset).name)
    except LookupError:
        return None


def _csv_lines(text: str) -> list[tuple[int, list[str]]]:
    if "\x00" in text:
        raise file_rejected("The file contains NUL characters; it is not a text CSV file.")
    try:
        return _non_blank(enumerate(csv.reader(io.StringIO(text, newline=""))))
    except csv.Error as exc:
        raise file_rejected(f"The file is not readable CSV: {exc}.") from exc


def _non_blank(lines: Iterable[tuple[int, list[str]]]) -> list[tuple[int, list[str]]]:
    return [(number, line) for number, line in lines if line and any(map(str.strip, line))]


def _ole2_refused(raw: bytes) -> XlsxNotReadable:
    if _ENCRYPTED_OOXML in raw:
        return XlsxNotReadable("The workbook is password-protected; save it without a password and send it again.")
    return XlsxNotReadable("This is an Excel 97-2003 (.xls) file; save it as an Excel workbook (.xlsx) or CSV UTF-8.")


def _xlsx_lines(raw: bytes) -> list[tuple[int, list[str]]]:
    """The first worksheet's rows, trailing empty cells dropped and short rows filled to the header's width."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
            if unpacked > MAX_XLSX_UNPACKED_BYTES:  # the declared sizes bound what zipfile will unpack
                raise XlsxNotReadable(f"The workbook unpacks to more than {MAX_XLSX_UNPACKED_BYTES} bytes; split it.")
            formulas = _holds_formulas(archive)
        lines, failed = _sheet_lines(raw, formulas)
    except Problem:
        raise
    except Exception as exc:  # a damaged file fails in zipfile, in the XML parser or in openpyxl, in many ways
        raise XlsxNotReadable(f"The file is not a readable .xlsx workbook ({type(exc).__name__}).") from exc
    if failed:
        raise CsvRejected(
            f"{len(failed)} cell(s) cannot be read as they stand; fix them and import the file again.",
            errors=[{"row": None, "column": None, "detail": detail} for detail in failed],
        )
    lines = _non_blank(lines)
    width = len(lines[0][1]) if lines else 0
    return [(number, cells + [""] * (width - len(cells))) for number, cells in lines]


def _holds_formulas(archive: zipfile.ZipFile) -> bool:
    """Whether a worksheet part holds a formula: most case files hold none, and then one reading is enough."""
    for member in archive.namelist():
        if member.startswith("xl/worksheets/") and member.endswith(".xml"):
            with archive.open(member) as part:
                tail = b""
                while chunk := part.read(1 << 20):
                    if _FORMULA.search(tail + chunk):
                        return True
                    tail = chunk[-16:]
    return False


def _sheet_lines(raw: bytes, formulas: bool) -> tuple[list[tuple[int, list[str]]], list[str]]:
    """The first worksheet's rows as text, and the cells that cannot be read as they stand: an Excel error (#N/A,
    #DIV/0!...), or a formula saved without its result (by a program that does not compute them), which would
    otherwise read as empty."""
    workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    try:
        if not workbook.worksheets:
            raise XlsxNotReadable("The workbook has no worksheet.")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # rows as stored, not padded to a dimension the file declares
        lines: list[tuple[int, list[str]]] = []
        failed: list[str] = []
        stored_blank: list[str] = []  # cells stored with no value: a formula's unsaved result, or nothing
        cells = 0
        for number, row in enumerate(sheet.iter_rows()):
            cells += len(row)
            if number >= MAX_XLSX_ROWS or cells > MAX_XLSX_CELLS:
                raise XlsxNotReadable(
                    f"The worksheet has more than {MAX_XLSX_ROWS} rows or {MAX_XLSX_CELLS} cells; split it."
                )
            failed += [
                f"cell {cell.coordinate} holds the Excel error {cell.value}" for cell in row if cell.data_type == "e"
            ]
            stored_blank += [cell.coordinate for cell in row if cell.value is None and isinstance(cell, ReadOnlyCell)]
            lines.append((number, _trimmed([_text(cell.value) for cell in row])))
    finally:
        workbook.close()
    if formulas and stored_blank:
        failed += [
            f"cell {coordinate} holds a formula whose result was not saved with the workbook; open it in Excel, "
            "save it and import it again"
            for coordinate in _formula_cells(raw, set(stored_blank))
        ]
    return lines, failed


def _formula_cells(raw: bytes, among: set[str]) -> list[str]:
    """Which of these cells of the first worksheet hold a formula, in the sheet's order."""
    workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=False)
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        return [
            cell.coordinate
            for row in sheet.iter_rows()
            for cell in row
            if cell.data_type == "f" and isinstance(cell, ReadOnlyCell) and cell.coordinate in among
        ]
    finally:
        workbook.close()


def _trimmed(cells: list[str]) -> list[str]:
    while cells and not cells[-1].strip():
        cells.pop()
    return cells


def _text(value: Any) -> str:
    """A cell's value as the CSV file would have it: dates as ISO dates, whole numbers without ".0" (a phone number
    Excel stored as a number is its digits), TRUE and FALSE as true and false."""
    match value:
        case None:
            return ""
        case bool():
            return "true" if value else "false"
        case float() if value.is_integer():
            return str(int(value))
        case datetime() if value.time() == time(0):
            return value.date().isoformat()
        case date() | time():
            return value.isoformat()
        case _:
            return str(value)


@dataclass
class RowErrors:
    """Errors found in a file, each naming its row (1: the first below the header; None: the header) and column."""

    errors: list[dict[str, Any]] = field(default_factory=list)

    def add(self, row: int | None, column: str | None, detail: str) -> None:
        self.errors.append({"row": row, "column": column, "detail": detail})

    def add_validation(self, row: int, exc: ValidationError, columns: dict[str, str], prefix: str = "") -> None:
        for error in exc.errors(include_url=False):
            names = [str(part) for part in error["loc"] if str(part) in columns]
            self.add(row, columns[names[-1]] if names else None, prefix + error["msg"])


def read_rows(
    records: list[tuple[int, list[str]]], required: Sequence[str], optional: Sequence[str]
) -> list[tuple[int, dict[str, str]]]:
    """The data rows as column -> stripped value, checked against the header. Rows are numbered as a spreadsheet
    shows them below the header (1 is the first row after it); blank lines are not in `records`."""
    if not records:
        raise file_rejected("The file is empty; it needs a header row.")
    header_number, header_line = records[0]
    header = [name.strip() for name in header_line]
    found = RowErrors()
    for name in sorted({name for name in header if header.count(name) > 1}):
        found.add(None, name, "column appears more than once")
    for name in header:
        if name not in required and name not in optional:
            found.add(None, name, "unknown column")
    for name in required:
        if name not in header:
            found.add(None, name, "required column is missing")
    if found.errors:
        raise CsvRejected("The header row is not valid.", errors=found.errors)
    rows = []
    for number, line in records[1:]:
        row = number - header_number
        if len(line) != len(header):
            found.add(row, None, f"has {len(line)} fields; the header has {len(header)}")
        else:
            rows.append((row, {name: value.strip() for name, value in zip(header, line, strict=True)}))
    if found.errors:
        raise CsvRejected(f"{len(found.errors)} row(s) do not match the header.", errors=found.errors)
    if not rows:
        raise file_rejected("The file has a header but no data rows.")
    return rows
