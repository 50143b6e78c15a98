"""The printable visit sheet: a route picture, an A4 PDF and a CSV of the same rows, from plain data.

The PDF embeds (a subset of) one TrueType font that has the Chinese and Latin glyphs the sheet uses, WenQuanYi Micro
Hei (Debian and Ubuntu: `fonts-wqy-microhei`), so that every viewer prints it the same; labels are in the branch's
language (`zh`: Chinese with the English beside it; `en`: English).
"""

import csv
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Image as PdfImage
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from routing.matrix import EARTH_MEAN_RADIUS_M

FONT = "WenQuanYiMicroHei"
FONT_FILES = (  # where the distributions put it
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc"),
)
FONT_PACKAGE = "fonts-wqy-microhei"

MARGIN_PX = 60
MIN_SPAN_M = 500.0  # a day whose points all coincide is drawn as if it spanned this much

Colour = tuple[int, int, int]
BACKGROUND = (250, 250, 247)
WHITE = (255, 255, 255)
ROUTE_COLOUR = (37, 99, 235)
STOP_COLOUR = (234, 88, 12)
OFFICE_COLOUR = (22, 101, 52)
INK = (30, 30, 30)
STOP_RADIUS_PX = 14
START_HALF_PX = 9
END_HALF_PX = 17

TITLE_STYLE = ParagraphStyle("title", fontName=FONT, fontSize=16, leading=20, spaceAfter=2 * mm, wordWrap="CJK")
TEXT_STYLE = ParagraphStyle("text", fontName=FONT, fontSize=10, leading=13, wordWrap="CJK")
CELL_STYLE = ParagraphStyle("cell", fontName=FONT, fontSize=8.5, leading=10.5, wordWrap="CJK")
NOTE_STYLE = ParagraphStyle("note", parent=CELL_STYLE, fontSize=7.5, leading=9.5, textColor=colors.HexColor("#374151"))
COLUMN_SHARES = (0.065, 0.13, 0.28, 0.2, 0.155, 0.17)  # of the text width: No., time, address, purpose, case, flags

# what the sheet prints around the data, by the branch's language: Chinese with the English beside it, or English
LABELS = {
    "zh": {
        "title": "外访总表 Visit sheet",
        "team": "团队 Team",
        "agents": "外访员 Agents",
        "version": "版本 Version",
        "draft": "草稿 draft",
        "stops": "站 stops",
        "travel": "路程 travel",
        "columns": (
            "序号<br/>No.",
            "时间<br/>Time",
            "地址<br/>Address",
            "目的<br/>Purpose",
            "案件/债务人<br/>Case/Debtor",
            "标记<br/>Flags",
        ),
        "notes": "备注 Notes",
        "asked_before": "已问过（勿再问，除非有理由） Asked before",
        "signature": "签名 Signature",
        "date": "日期 Date",
        "page": "第 {page} 页 page {page}",
    },
    "en": {
        "title": "Visit sheet",
        "team": "Team",
        "agents": "Agents",
        "version": "Version",
        "draft": "draft",
        "stops": "stops",
        "travel": "travel",
        "columns": ("No.", "Time", "Address", "Purpose", "Case/Debtor", "Flags"),
        "notes": "Notes",
        "asked_before": "Asked before (not again without a reason)",
        "signature": "Signature",
        "date": "Date",
        "page": "page {page}",
    },
}


class SheetFontMissing(RuntimeError):
    """The font the printed sheet embeds is not installed."""


CSV_HEADER = (
    "position",
    "arrival",
    "departure",
    "address",
    "purpose",
    "case_reference",
    "debtor_name",
    "flags",
    "lat",
    "lon",
    "notes",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class PrintedStop:
    position: int  # 1-based order
    arrival: str  # "HH:MM" local time (already formatted by the caller)
    departure: str  # "HH:MM"
    address: str
    purpose: str  # label in the sheet's language, e.g. "谈判 Negotiate"
    case_reference: str
    debtor_name: str
    flags: tuple[str, ...]  # e.g. ("complaint history", "elderly")
    lat: float
    lon: float
    notes: str = ""  # what the phone collector asked for
    asked_before: tuple[
        str, ...
    ] = ()  # third parties asked at earlier visits of the case, e.g. "邻居 302室 (2026-11-20)"


@dataclass(frozen=True, slots=True)
class PrintedSheet:
    branch: str
    work_date: date
    team: str
    agents: tuple[str, ...]  # normally two names
    version: int | None  # None: a draft
    status: str  # "draft" or "published"
    start: tuple[float, float]  # (lat, lon) where the team leaves (office)
    end: tuple[float, float]
    route: tuple[tuple[float, float], ...]  # (lat, lon) polyline of the day: start, stops in order, end
    distance_m: int
    travel_s: int
    stops: tuple[PrintedStop, ...]
    language: str = "zh"  # a key of LABELS


@dataclass(frozen=True, slots=True)
class Projection:
    """Equirectangular projection of (lat, lon) onto a picture, the same scale on both axes."""

    lat0: float
    lon0: float
    cos_lat0: float
    px_per_m: float
    centre_px: tuple[float, float]

    def metres(self, lat: float, lon: float) -> tuple[float, float]:
        """East and north offsets in metres from (lat0, lon0)."""
        east = math.radians(lon - self.lon0) * self.cos_lat0 * EARTH_MEAN_RADIUS_M
        north = math.radians(lat - self.lat0) * EARTH_MEAN_RADIUS_M
        return east, north

    def pixel(self, lat: float, lon: float) -> tuple[float, float]:
        east, north = self.metres(lat, lon)
        return self.centre_px[0] + east * self.px_per_m, self.centre_px[1] - north * self.px_per_m


def sheet_points(sheet: PrintedSheet) -> list[tuple[float, float]]:
    """Every (lat, lon) the picture draws."""
    return [sheet.start, sheet.end, *sheet.route, *((stop.lat, stop.lon) for stop in sheet.stops)]


def fit_projection(points: list[tuple[float, float]], width_px: int, height_px: int) -> Projection:
    """The projection that centres the points' bounding box and fits it within the margins."""
    lats = [lat for lat, _ in points]
    lons = [lon for _, lon in points]
    lat0 = (min(lats) + max(lats)) / 2
    lon0 = (min(lons) + max(lons)) / 2
    unscaled = Projection(lat0, lon0, math.cos(math.radians(lat0)), 1.0, (0.0, 0.0))
    offsets = [unscaled.metres(lat, lon) for lat, lon in points]
    span_east = max(max(east for east, _ in offsets) - min(east for east, _ in offsets), MIN_SPAN_M)
    span_north = max(max(north for _, north in offsets) - min(north for _, north in offsets), MIN_SPAN_M)
    px_per_m = min((width_px - 2 * MARGIN_PX) / span_east, (height_px - 2 * MARGIN_PX) / span_north)
    return Projection(lat0, lon0, unscaled.cos_lat0, px_per_m, (width_px / 2, height_px / 2))


def scale_bar_m(max_m: float) -> float:
    """The longest 1, 2 or 5 times a power of ten metres that is at most max_m."""
    power = 10 ** math.floor(math.log10(max_m))
    return max(step * power for step in (1, 2, 5) if step * power <= max_m)


def route_picture(sheet: PrintedSheet, width_px: int = 1200, height_px: int = 800) -> Image.Image:
    """Draw the day's route on a plain background from the coordinates alone.

    The polyline is the route, numbered circles are the stops in order, squares are the start (small, filled) and the
    end (large, outlined), and a bar in the bottom-left margin gives the scale in km.
    """
    projection = fit_projection(sheet_points(sheet), width_px, height_px)
    picture = Image.new("RGB", (width_px, height_px), BACKGROUND)
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=16)
    if len(sheet.route) > 1:
        draw.line([projection.pixel(lat, lon) for lat, lon in sheet.route], fill=ROUTE_COLOUR, width=4, joint="curve")
    # the end is the larger outline, so an office that is both start and end shows both markers
    draw_square(draw, projection.pixel(*sheet.end), END_HALF_PX, fill=WHITE)
    draw_square(draw, projection.pixel(*sheet.start), START_HALF_PX, fill=OFFICE_COLOUR)
    for stop in sheet.stops:
        x, y = projection.pixel(stop.lat, stop.lon)
        r = STOP_RADIUS_PX
        draw.ellipse((x - r, y - r, x + r, y + r), fill=STOP_COLOUR, outline=INK, width=2)
        draw.text((x, y), str(stop.position), fill=WHITE, font=font, anchor="mm")
    draw_scale_bar(draw, projection.px_per_m, width_px, height_px, font)
    return picture


def draw_square(draw: ImageDraw.ImageDraw, centre: tuple[float, float], half_px: int, fill: Colour) -> None:
    x, y = centre
    draw.rectangle((x - half_px, y - half_px, x + half_px, y + half_px), fill=fill, outline=OFFICE_COLOUR, width=4)


def draw_scale_bar(
    draw: ImageDraw.ImageDraw,
    px_per_m: float,
    width_px: int,
    height_px: int,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
) -> None:
    length_m = scale_bar_m((width_px - 2 * MARGIN_PX) / 4 / px_per_m)
    x0, y = MARGIN_PX, height_px - MARGIN_PX / 2
    x1 = x0 + length_m * px_per_m
    draw.line((x0, y, x1, y), fill=INK, width=3)
    for x in (x0, x1):
        draw.line((x, y - 6, x, y + 6), fill=INK, width=3)
    draw.text((x1 + 10, y), f"{length_m / 1000:g} km", fill=INK, font=font, anchor="lm")


@cache
def register_font() -> None:
    found = next((path for path in FONT_FILES if path.is_file()), None)
    if found is None:
        raise SheetFontMissing(f"The printed sheet needs the font of {FONT_PACKAGE}: apt-get install {FONT_PACKAGE}.")
    pdfmetrics.registerFont(TTFont(FONT, str(found), subfontIndex=0))


def render_pdf(sheet: PrintedSheet) -> bytes:
    """An A4 PDF of the sheet: header, route picture, the table of stops and a signature line per agent. Raises
    SheetFontMissing when the font it embeds is not installed."""
    register_font()
    buffer = io.BytesIO()
    document = a4_document(buffer, sheet_title(sheet))
    story = [
        *header(sheet),
        picture_flowable(sheet, document.width),
        Spacer(0, 4 * mm),
        stops_table(sheet, document.width),
        signatures(sheet),
    ]
    footer = page_footer(sheet)
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def a4_document(buffer: io.BytesIO, title: str) -> SimpleDocTemplate:
    """An A4 page with the margins the printed pages share, room left at the bottom for the footer."""
    return SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
    )


def sheet_title(sheet: PrintedSheet) -> str:
    return f"{_label(sheet, 'title')} {sheet.branch} {sheet.team} {sheet.work_date.isoformat()}"


def paragraph(text: str, style: ParagraphStyle = CELL_STYLE) -> Paragraph:
    """A Paragraph of plain text: the caller's text is escaped, never read as markup."""
    return Paragraph(escape(text), style)


def header(sheet: PrintedSheet) -> list[Flowable]:
    hours, minutes = divmod(round(sheet.travel_s / 60), 60)
    lines = (
        f"{sheet.branch}  ·  {sheet.work_date.isoformat()}  ·  {_label(sheet, 'team')} {sheet.team}",
        f"{_label(sheet, 'agents')}: {'、'.join(sheet.agents)}",
        f"{_label(sheet, 'version')} {_version(sheet)} ({sheet.status})  ·  {len(sheet.stops)} {_label(sheet, 'stops')}"
        f"  ·  {sheet.distance_m / 1000:.1f} km  ·  {hours} h {minutes:02d} min {_label(sheet, 'travel')}",
    )
    return [paragraph(_label(sheet, "title"), TITLE_STYLE), *(paragraph(line, TEXT_STYLE) for line in lines)]


def picture_flowable(sheet: PrintedSheet, width_pt: float) -> PdfImage:
    picture = route_picture(sheet)
    png = io.BytesIO()
    picture.save(png, format="PNG")
    png.seek(0)
    return PdfImage(png, width=width_pt, height=width_pt * picture.height / picture.width)


def stops_table(sheet: PrintedSheet, width_pt: float) -> Table:
    rows: list[list[Flowable | list[Flowable]]] = [
        [Paragraph(markup, CELL_STYLE) for markup in _label(sheet, "columns")]
    ]
    rows += [
        [
            paragraph(str(stop.position)),
            paragraph(f"{stop.arrival}-{stop.departure}"),
            paragraph(stop.address),
            [paragraph(stop.purpose), *_notes(sheet, stop)],
            Paragraph(f"{escape(stop.case_reference)}<br/>{escape(stop.debtor_name)}", CELL_STYLE),
            paragraph("; ".join(stop.flags)),
        ]
        for stop in sheet.stops
    ]
    return ruled_table(rows, [share * width_pt for share in COLUMN_SHARES])


def ruled_table(rows: Sequence[list[Flowable | list[Flowable]]], widths: Sequence[float]) -> Table:
    """A table with a grey grid and a shaded heading row that repeats on each page."""
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e5e7eb")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _notes(sheet: PrintedSheet, stop: PrintedStop) -> list[Paragraph]:
    notes = [paragraph(f"{_label(sheet, 'notes')}: {stop.notes}", NOTE_STYLE)] if stop.notes.strip() else []
    if stop.asked_before:
        notes.append(paragraph(f"{_label(sheet, 'asked_before')}: {'; '.join(stop.asked_before)}", NOTE_STYLE))
    return notes


def signatures(sheet: PrintedSheet) -> KeepTogether:
    lines: list[Flowable] = [Spacer(0, 10 * mm)]
    for agent in sheet.agents:
        line = f"{agent}    {_label(sheet, 'signature')}: ____________________    {_label(sheet, 'date')}: ____________"
        lines += [paragraph(line, TEXT_STYLE), Spacer(0, 8 * mm)]
    return KeepTogether(lines)


def page_footer(sheet: PrintedSheet) -> Callable[[Canvas, SimpleDocTemplate], None]:
    """Each printed page says whose sheet it is, since the table goes on over several pages."""
    text = f"{sheet.team}  {sheet.work_date.isoformat()}  {_version(sheet)}"

    def draw(canvas: Canvas, document: SimpleDocTemplate) -> None:
        page = canvas.getPageNumber()
        canvas.setFont(FONT, 8)
        canvas.drawString(document.leftMargin, 10 * mm, f"{text}  ·  {_label(sheet, 'page').format(page=page)}")

    return draw


def render_csv(sheet: PrintedSheet) -> str:
    """The table's rows as CSV, header first; text cells cannot start a spreadsheet formula."""
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow(CSV_HEADER)
    for stop in sheet.stops:
        text = (stop.arrival, stop.departure, stop.address, stop.purpose, stop.case_reference, stop.debtor_name)
        flags = neutralise("; ".join(stop.flags))
        writer.writerow([stop.position, *map(neutralise, text), flags, stop.lat, stop.lon, neutralise(stop.notes)])
    return output.getvalue()


def neutralise(cell: str) -> str:
    """Prefix an apostrophe to text a spreadsheet would run as a formula (OWASP CSV injection)."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


def _version(sheet: PrintedSheet) -> str:
    return _label(sheet, "draft") if sheet.version is None else f"v{sheet.version}"


def _label(sheet: PrintedSheet, name: str) -> Any:
    return LABELS[sheet.language][name]
