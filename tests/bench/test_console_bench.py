"""The console bench on a small day: every screen reaches its mark, and the day's peer is fetched both ways. The
bench makes its own SQLite, so it runs in the SpatiaLite run only (it uses no database fixture)."""

import re

import pytest

from bench.console.__main__ import main


def test_a_small_day_shows_each_screen_and_both_ways_of_fetching_it(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--requests", "24", "--teams", "2", "--repeats", "1", "--time-limit", "1"])

    printed = capsys.readouterr().out
    for screen in ("day map", "visit review", "address queue"):
        assert re.search(rf"^{screen} +median +\d+ ms .*API calls \d+$", printed, re.M), printed
    assert re.search(r"day map drew 2 routes and \d+ stops", printed), printed
    assert re.search(r"one per team \(3 calls\)", printed), printed
