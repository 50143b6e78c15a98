"""The planning benchmark: a small generated day goes through start_run and execute_run and comes back timed."""

import re
from dataclasses import replace
from pathlib import Path

import pytest

from bench.planning.__main__ import _print_limit_verdict
from bench.planning.measure import DatabaseNotEmpty, Day, PlanningRow, measure, median_row


def test_a_small_day_is_planned_and_every_phase_timed() -> None:
    (row,) = measure(Day(30, 3, seed=1), time_limit_s=1, solver_workers=1)

    assert (row.requests, row.teams) == (30, 3)
    assert row.planned + row.unplanned == row.requests and row.planned > 0
    assert min(row.load_s, row.matrix_s, row.store_s) >= 0 and row.solve_s > 0
    assert row.total_s >= row.solve_s + row.phases_s - 0.01  # the phases are rounded to milliseconds
    assert row.other_s == pytest.approx(row.total_s - row.solve_s, abs=0.002)
    assert row.other_pct == pytest.approx(100 * row.other_s / row.solve_s, abs=0.2)
    assert 0 < row.rules_s < row.other_s and row.rules_pct == pytest.approx(
        100 * row.rules_s / (row.other_s - row.rules_s), rel=0.05
    )
    assert row.engine == "ortools" and row.peak_mib > 0
    assert row.time_limit_s == 1 and 0 < row.solver_wall_s <= row.solve_s + 0.001  # rounded


def test_the_solver_is_checked_against_the_limit_each_run_gave_it(capsys: pytest.CaptureFixture[str]) -> None:
    row = PlanningRow("1", 10, 2, 9, 1, 12.5, 0.1, 0.05, 0.2, 1.6, 0.3, 0.7, 43.8, 5.0, 2.3, "ortools", 100.0)

    kept, over = replace(row, time_limit_s=1, solver_wall_s=1.49), replace(row, time_limit_s=1, solver_wall_s=1.51)
    _print_limit_verdict([("plan", kept), ("re-solve", over)])

    printed = capsys.readouterr().out
    assert re.search(r"plan +1\.490 s of 1 s +PASS", printed) and re.search(r"re-solve +1\.510 s of 1 s +FAIL", printed)


def test_a_given_database_keeps_the_day_and_must_be_empty(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'planning.db'}"
    measure(Day(5, 1, seed=2), time_limit_s=1, database_url=url, solver_workers=1)

    with pytest.raises(DatabaseNotEmpty):
        measure(Day(5, 1, seed=2), time_limit_s=1, database_url=url, solver_workers=1)


def test_the_median_row_takes_each_column_apart() -> None:
    rows = [
        PlanningRow(
            str(n),
            10,
            2,
            planned,
            10 - planned,
            12.5,
            0.1,
            0.05,
            0.2,
            solve,
            0.3,
            0.7,
            70 / solve,
            5.0,
            solve + 0.7,
            engine,
            100.0,
        )
        for n, planned, solve, engine in ((1, 9, 1.0, "ortools"), (2, 8, 3.0, "pyvrp"), (3, 7, 2.0, "ortools"))
    ]

    median = median_row(rows)

    assert (median.run, median.planned, median.unplanned, median.solve_s) == ("median", 8, 2, 2.0)
    assert median.engine == "ortools/pyvrp"


def test_a_re_solve_after_one_pin_is_timed_beside_the_same_re_solve_from_scratch() -> None:
    planned, warm, scratch = measure(Day(20, 3, seed=3), time_limit_s=1, solver_workers=1, resolve=True)

    assert (planned.run, warm.run, scratch.run) == ("1", "1r", "1c")
    assert planned.requests == warm.requests == scratch.requests
    assert min(warm.planned, scratch.planned, warm.distance_km, scratch.distance_km) > 0


def test_the_demo_day_can_be_measured() -> None:
    (row,) = measure(Day(0, 0, seed=1, demo=True), time_limit_s=1, solver_workers=1)

    assert row.teams == 4 and row.planned > 0
