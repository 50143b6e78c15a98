"""The address benches on a few addresses: geocoding against the AMap double holds its rate and answers from the
cache when warm; the pre-check of a small day raises every kind of problem the day was seeded with."""

from sqlalchemy import func, select

from api.db import make_engine
from api.models.address_reports import AddressProblem, AddressReport
from bench.addresses.geocode import bench_geocode, busiest_second
from bench.addresses.precheck import bench_precheck


def _quiet(_: str) -> None:
    pass


def test_a_small_branch_is_geocoded_cold_then_from_the_cache_within_the_rate(database_url: str) -> None:
    result = bench_geocode(
        30, seed=1, per_second=200, database_url=database_url, slow_count=5, slow_per_second=20, report=_quiet
    )

    cold, warm, slow = result.passes
    assert result.addresses == 30 and result.distinct_texts <= 30
    assert cold.addresses == warm.addresses == 30 and slow.addresses == 5
    assert cold.server_errors >= 1 and cold.backoff_s > 0  # a 503 answered once, retried after the backoff
    assert 0 < cold.summary.asked <= result.distinct_texts
    assert cold.requests >= cold.summary.asked + cold.server_errors
    assert warm.summary.asked == 0 and warm.requests == warm.summary.failed  # only unanswerable texts are asked again
    for run in (cold, warm):
        summary = run.summary
        assert summary.trusted + summary.untrusted + summary.not_found + summary.failed == run.addresses
        assert sum(summary.by_grade.values()) == run.addresses
    assert (warm.summary.trusted, warm.summary.untrusted) == (cold.summary.trusted, cold.summary.untrusted)
    assert cold.summary.trusted > 0 and cold.summary.untrusted > 0 and cold.summary.not_found > 0
    assert all(run.rate_held for run in result.passes)
    assert slow.busiest_second <= 21 and slow.requests >= 5


def test_the_busiest_second_counts_requests_within_one_second() -> None:
    assert busiest_second([]) == 0
    assert busiest_second([0.0, 0.5, 1.0, 1.01, 3.0]) == 3  # 0.0–1.0, or 0.5–1.01
    assert busiest_second([2.0, 0.0, 0.1]) == 2


def test_a_small_day_is_prechecked_and_every_problem_reported(database_url: str) -> None:
    result = bench_precheck(40, seed=1, database_url=database_url, runs=2, report=_quiet)

    assert result.day.planted.total() == 40 and len(result.runs) == 2
    assert all(run.summary.addresses == 40 and run.statements > 0 for run in result.runs)
    assert result.runs[0].summary.reported == result.runs[1].summary.reported  # each run on a fresh copy
    # every problem but the road engine's, which planning on roads finds (tests/sheets/test_road_engine.py)
    assert set(result.reported) == {problem.value for problem in AddressProblem} - {AddressProblem.NO_ROAD}
    assert result.reported["untrusted_match"] == result.day.planted["geocoded at road level (complete text)"]
    assert result.reported["shared_point"] == result.day.planted["sharing a point (pairs x 2)"]
    assert result.median_s > 0
    engine = make_engine(database_url)  # the seeded database itself is left unchecked: the copies took the reports
    try:
        with engine.connect() as connection:
            assert connection.scalar(select(func.count()).select_from(AddressReport)) == 0
    finally:
        engine.dispose()
