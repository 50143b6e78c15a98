"""A results report as a table for a spreadsheet: CSV (UTF-8 with a byte order mark, which Excel needs to read it
as UTF-8) or an .xlsx workbook written by openpyxl."""

import csv
import io
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from openpyxl import Workbook

from api.reports.schemas import ResultFigures, ResultRow

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Suffix(StrEnum):
    """The file a results report is exported as: CSV or an Excel workbook."""

    CSV = "csv"
    XLSX = "xlsx"


def columns() -> list[str]:
    """The table's columns: the period, the key and its label, then each figure (left out by reason as text)."""
    return ["period_start", "key", "label", *ResultFigures.model_fields]


def _cells(row: ResultRow) -> list[Any]:
    figures = row.figures.model_dump(mode="json")
    reasons = "; ".join(f"{reason}: {count}" for reason, count in row.figures.left_out_by_reason.items())
    return [
        row.period_start.isoformat(),
        row.key,
        row.label,
        *(reasons if name == "left_out_by_reason" else figures[name] for name in ResultFigures.model_fields),
    ]


def table(rows: Sequence[ResultRow], suffix: Suffix) -> tuple[bytes, str]:
    """The rows as a file of `suffix`, and its media type."""
    if suffix is Suffix.CSV:
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(columns())
        writer.writerows(_cells(row) for row in rows)
        return text.getvalue().encode("utf-8-sig"), f"{CSV}; charset=utf-8"
    book = Workbook(write_only=True)
    sheet = book.create_sheet("results")
    sheet.append(columns())
    for row in rows:
        sheet.append([_number(cell) for cell in _cells(row)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), XLSX


def _number(cell: Any) -> Any:
    """Amounts (decimal strings) as numbers in the workbook, so that a spreadsheet sums them."""
    if isinstance(cell, str) and cell.replace(".", "", 1).isdigit() and "." in cell:
        return float(cell)
    return cell
