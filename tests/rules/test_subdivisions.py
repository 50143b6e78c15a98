"""The part of a country whose holidays an address keeps, read from its text: a UK nation from the postcode (or the
nation's name), an Indian state from its name; the pack's default, or the national calendar, when it names none."""

import pytest

from api.rules.packs import pack
from api.rules.subdivisions import address_subdivision, subdivision_name


@pytest.mark.parametrize(
    ("code", "text", "subdivision"),
    [
        ("UK", "12 Princes Street, Edinburgh EH2 2AN", "SCT"),
        ("UK", "1 George Square, Glasgow g2 1du", "SCT"),
        ("UK", "Flat 2, 14 Union Street, Aberdeen AB11 6BA, United Kingdom", "SCT"),
        ("UK", "5 Donegall Square North, Belfast BT1 5GS", "NIR"),
        ("UK", "10 Downing Street, London SW1A 2AA", "ENG"),
        ("UK", "1 Castle Street, Cardiff CF10 1BJ", "WLS"),
        ("UK", "20 Marygate, Berwick-upon-Tweed TD15 1BN", "ENG"),  # an English town in a Scottish postcode area
        ("UK", "3 High Street, Kirkcaldy, Scotland", "SCT"),  # no postcode: the nation's name
        ("UK", "3 Scotland Street, London SW1A 2AA", "ENG"),  # the postcode, not a street's name
        ("UK", "3 High Street", "ENG"),  # names no nation: the pack's default
        ("IN", "Flat 4, Marine Drive, Mumbai, Maharashtra 400020", "MH"),
        ("IN", "12 MG Road, Bengaluru, karnataka 560001", "KA"),
        ("IN", "Plot 7, Hitech City, Hyderabad, Telangana 500081", "TS"),
        ("IN", "12 MG Road, Bengaluru 560001", None),  # no state named: the national calendar alone
        ("CN", "上海市黄浦区南京东路100号3室", None),  # China's calendar is national
        ("ID", "Jl. Jenderal Sudirman 1, Jakarta Pusat", None),  # national holidays only (hari libur nasional)
        ("US", "100 N Oregon St, El Paso, TX 79901", None),  # Regulation F names no holidays
    ],
)
def test_an_address_keeps_the_holidays_of_its_nation_or_state(code: str, text: str, subdivision: str | None) -> None:
    assert address_subdivision(pack(code), text) == subdivision


def test_a_subdivision_is_named_in_words() -> None:
    uk, india = pack("UK").holidays, pack("IN").holidays
    assert uk is not None and india is not None

    assert [subdivision_name(uk, code) for code in ("SCT", "NIR", "ENG", "WLS")] == [
        "Scotland",
        "Northern Ireland",
        "England",
        "Wales",
    ]
    assert (subdivision_name(india, "MH"), subdivision_name(india, "TS")) == ("Maharashtra", "Telangana")
