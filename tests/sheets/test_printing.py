import codecs
import csv
import io
import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from reportlab.pdfbase import pdfmetrics

from api.sheets import printing
from api.sheets.printing import (
    BACKGROUND,
    CSV_HEADER,
    END_HALF_PX,
    FONT,
    LABELS,
    MARGIN_PX,
    OFFICE_COLOUR,
    STOP_COLOUR,
    STOP_RADIUS_PX,
    WHITE,
    PrintedSheet,
    PrintedStop,
    SheetFontMissing,
    fit_projection,
    header,
    paragraph,
    register_font,
    render_csv,
    render_pdf,
    route_picture,
    scale_bar_m,
    sheet_points,
    sheet_title,
    stops_table,
)

OFFICE = (31.2304, 121.4737)


def make_stop(position: int, lat: float, lon: float, **overrides: object) -> PrintedStop:
    stop = PrintedStop(
        position=position,
        arrival="09:00",
        departure="09:20",
        address=f"上海市黄浦区南京东路{100 + position}号3室",
        purpose="Negotiate",
        case_reference=f"C-2026-{position:04d}",
        debtor_name="张三",
        flags=("complaint history", "elderly"),
        lat=lat,
        lon=lon,
    )
    return replace(stop, **overrides)


def make_sheet(
    stops: tuple[PrintedStop, ...],
    start: tuple[float, float] = OFFICE,
    end: tuple[float, float] = OFFICE,
) -> PrintedSheet:
    return PrintedSheet(
        branch="上海黄浦分行",
        work_date=date(2026, 11, 30),
        team="T-07",
        agents=("王伟", "李娜"),
        version=3,
        status="published",
        start=start,
        end=end,
        route=(start, *((stop.lat, stop.lon) for stop in stops), end),
        distance_m=42_315,
        travel_s=11_100,
        stops=stops,
    )


def spread_stops(count: int) -> tuple[PrintedStop, ...]:
    return tuple(
        make_stop(i + 1, OFFICE[0] + 0.01 * ((i * 7) % 11 - 5), OFFICE[1] + 0.012 * ((i * 5) % 13 - 6))
        for i in range(count)
    )


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b", pdf))  # \b: not /Pages


def pdf_title(pdf: bytes) -> str:
    """The Info dictionary's /Title, a PDF literal string, decoded."""
    match = re.search(rb"/Title \(((?:\\.|[^\\)])*)\)", pdf)
    assert match is not None
    escapes = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}

    def unescape(m: re.Match[bytes]) -> bytes:
        code = m.group(1)
        return bytes([int(code, 8)]) if code[:1].isdigit() else escapes.get(code, code)

    raw = re.sub(rb"\\([0-7]{1,3}|.)", unescape, match.group(1))
    return raw.decode("utf-16") if raw.startswith(codecs.BOM_UTF16_BE) else raw.decode("latin-1")


def pixel(picture: Image.Image, x: float, y: float) -> tuple[int, ...]:
    return picture.getpixel((round(x), round(y)))


def test_pdf_has_one_route_image_and_the_sheet_as_title() -> None:
    pdf = render_pdf(make_sheet(spread_stops(3)))

    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Subtype /Image\b", pdf)) == 1
    assert pdf_title(pdf) == "外访总表 Visit sheet 上海黄浦分行 T-07 2026-11-30"


def test_long_sheet_continues_on_further_pages() -> None:
    short = render_pdf(make_sheet(spread_stops(3)))
    long = render_pdf(make_sheet(spread_stops(80)))

    assert page_count(short) == 1
    assert page_count(long) > page_count(short)


def test_pdf_takes_markup_characters_as_plain_text() -> None:
    address = "南京东路1号 </b> <br> A&amp;B <i>后门</i>"  # as markup: a parse error, an entity, italics
    stop = make_stop(1, 31.24, 121.48, address=address, debtor_name="O'Brien & <Co>")

    pdf = render_pdf(make_sheet((stop,)))

    assert pdf.startswith(b"%PDF")
    assert paragraph(address).getPlainText() == address


@pytest.mark.parametrize(
    "sheet",
    [
        make_sheet(()),
        make_sheet((make_stop(1, *OFFICE), make_stop(2, *OFFICE))),
    ],
    ids=["no stops", "all points identical"],
)
def test_degenerate_days_render_with_the_office_in_the_middle(sheet: PrintedSheet) -> None:
    picture = route_picture(sheet, width_px=600, height_px=400)
    pdf = render_pdf(sheet)

    assert pixel(picture, 300, 200) != BACKGROUND
    assert pdf.startswith(b"%PDF")


def test_route_picture_draws_start_end_and_stops_where_they_project() -> None:
    stops = (make_stop(1, 31.26, 121.40), make_stop(2, 31.30, 121.52), make_stop(3, 31.20, 121.55))
    sheet = make_sheet(stops, start=OFFICE, end=(31.18, 121.44))
    projection = fit_projection(sheet_points(sheet), 1200, 800)

    picture = route_picture(sheet)

    assert pixel(picture, *projection.pixel(*sheet.start)) == OFFICE_COLOUR
    end_x, end_y = projection.pixel(*sheet.end)
    assert pixel(picture, end_x, end_y) == WHITE
    assert pixel(picture, end_x - END_HALF_PX, end_y) == OFFICE_COLOUR
    for stop in stops:
        x, y = projection.pixel(stop.lat, stop.lon)
        assert pixel(picture, x - STOP_RADIUS_PX + 4, y) == STOP_COLOUR
    assert ImageChops.difference(picture, Image.new("RGB", picture.size, BACKGROUND)).getbbox() is not None


def test_projection_fits_the_points_within_the_margins_north_up() -> None:
    points = [(31.20, 121.40), (31.25, 121.60)]  # wider east-west than north-south

    projection = fit_projection(points, 1200, 800)

    (west_x, south_y), (east_x, north_y) = (projection.pixel(*point) for point in points)
    assert west_x == pytest.approx(MARGIN_PX)
    assert east_x == pytest.approx(1200 - MARGIN_PX)
    assert MARGIN_PX < north_y < south_y < 800 - MARGIN_PX


def test_projection_scales_longitude_by_cos_latitude() -> None:
    origin = (60.0, 10.0)
    north, east = (60.01, 10.0), (60.0, 10.02)  # at 60° a degree of longitude is half a degree of latitude

    projection = fit_projection([origin, north, east], 1200, 800)

    ox, oy = projection.pixel(*origin)
    assert oy - projection.pixel(*north)[1] == pytest.approx(projection.pixel(*east)[0] - ox, rel=1e-3)


@pytest.mark.parametrize(("max_m", "bar_m"), [(3_700, 2_000), (999, 500), (1_000, 1_000), (72, 50)])
def test_scale_bar_is_a_round_length(max_m: float, bar_m: float) -> None:
    assert scale_bar_m(max_m) == bar_m


def test_csv_round_trips_chinese_commas_quotes_and_newlines() -> None:
    stop = make_stop(
        1,
        31.24,
        121.48,
        address='上海市黄浦区南京东路100号, 3室 "后门"\n二楼',
        debtor_name="张三, Zhang",
        flags=("complaint history", "elderly"),
        notes='ask for "王先生", not his wife',
    )

    rows = list(csv.reader(io.StringIO(render_csv(make_sheet((stop,))))))

    assert rows == [
        list(CSV_HEADER),
        [
            "1",
            "09:00",
            "09:20",
            '上海市黄浦区南京东路100号, 3室 "后门"\n二楼',
            "Negotiate",
            "C-2026-0001",
            "张三, Zhang",
            "complaint history; elderly",
            "31.24",
            "121.48",
            'ask for "王先生", not his wife',
        ],
    ]


def test_csv_neutralises_formula_cells_but_not_negative_coordinates() -> None:
    stop = make_stop(
        1,
        -33.9,
        -70.6,
        address="+86 21 1234",
        purpose="-1",
        case_reference="@SUM(A1)",
        debtor_name='=HYPERLINK("http://evil.example","x")',
        flags=("\tnote",),
    )

    (_, row) = csv.reader(io.StringIO(render_csv(make_sheet((stop,)))))

    cells = dict(zip(CSV_HEADER, row, strict=True))
    assert cells["address"] == "'+86 21 1234"
    assert cells["purpose"] == "'-1"
    assert cells["case_reference"] == "'@SUM(A1)"
    assert cells["debtor_name"] == '\'=HYPERLINK("http://evil.example","x")'
    assert cells["flags"] == "'\tnote"
    assert (float(cells["lat"]), float(cells["lon"])) == (-33.9, -70.6)


def _embedded_font(pdf: bytes) -> list[bytes]:
    return re.findall(rb"/BaseFont /([A-Z]{6}\+[\w-]+)", pdf)


def test_the_pdf_embeds_one_font_that_has_every_glyph_it_prints() -> None:
    sheet = make_sheet(
        (make_stop(1, 31.24, 121.48, notes="请核实新电话，住户说“下午在家”。", purpose="协商还款 Negotiate"),)
    )

    pdf = render_pdf(sheet)

    assert {name.split(b"+")[1].rsplit(b"-", 1)[0] for name in _embedded_font(pdf)} == {FONT.encode()}
    assert b"/FontFile2" in pdf and b"STSong" not in pdf
    face = pdfmetrics.getFont(FONT).face
    printed = "".join(
        [
            *(str(label) for label in LABELS["zh"].values()),
            sheet_title(sheet),
            *(paragraph.getPlainText() for paragraph in header(sheet)),
            *(
                cell.getPlainText()
                for row in stops_table(sheet, 500)._cellvalues
                for value in row
                for cell in (value if isinstance(value, list) else [value])
            ),
        ]
    )
    missing = sorted({char for char in printed if not char.isspace() and ord(char) not in face.charToGlyph})
    assert missing == []
    assert "·" in printed


@pytest.fixture
def font() -> None:
    """The sheet's font registered with reportlab, as render_pdf does before it builds anything: a test that builds
    the table's paragraphs itself needs it, and must not count on an earlier test having printed a PDF."""
    register_font()


@pytest.mark.usefixtures("font")
def test_each_stop_prints_what_the_collector_asked_for_in_the_sheets_language() -> None:
    asked = make_stop(1, 31.24, 121.48, notes="债务人上午在家", purpose="Negotiate")
    english = replace(make_sheet((asked, make_stop(2, 31.25, 121.49))), language="en")

    cells = [
        [
            value.getPlainText() if not isinstance(value, list) else " | ".join(p.getPlainText() for p in value)
            for value in row
        ]
        for row in stops_table(english, 500)._cellvalues
    ]

    assert cells[0][:3] == ["No.", "Time", "Address"]
    assert cells[1][3] == "Negotiate | Notes: 债务人上午在家" and cells[2][3] == "Negotiate"
    assert render_csv(english).splitlines()[1].endswith(",债务人上午在家")


def test_a_server_without_the_font_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(printing, "FONT_FILES", (Path("/nonexistent/font.ttc"),))
    printing.register_font.cache_clear()
    try:
        with pytest.raises(SheetFontMissing, match="apt-get install fonts-wqy-microhei"):
            render_pdf(make_sheet(()))
    finally:
        monkeypatch.undo()
        printing.register_font.cache_clear()


@pytest.mark.usefixtures("font")
def test_each_stop_prints_who_was_asked_before_so_the_team_does_not_ask_again() -> None:
    asked = replace(make_stop(1, 31.24, 121.48), asked_before=("邻居 neighbour 302室 (2026-11-20)",))
    sheet = make_sheet((asked, make_stop(2, 31.25, 121.49)))

    purposes = [row[3] for row in stops_table(sheet, 500)._cellvalues[1:]]

    assert [paragraph.getPlainText() for paragraph in purposes[0]][-1] == (
        "已问过（勿再问，除非有理由） Asked before: 邻居 neighbour 302室 (2026-11-20)"
    )
    assert [paragraph.getPlainText() for paragraph in purposes[1]] == [purposes[1][0].getPlainText()]
    assert render_pdf(sheet).startswith(b"%PDF")
