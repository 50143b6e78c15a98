"""The benchmark's instance handling: Solomon/Homberger parsing, best-known lookups and the gap, conversion to the
library's model, turning competitor routes into checkable plans, and the generated branch day."""

from pathlib import Path

import numpy as np
import pytest

from bench.routing.branch_day import EXPERIENCED, LUNCH, MAX_VISITS, SHIFT, branch_day, team_count
from bench.routing.competitors import plan_from_routes, routes_to_keys
from bench.routing.instances import (
    SCALE,
    BestKnown,
    euclidean_matrix,
    exact_lateness,
    gap_percent,
    parse_vrptw,
    read_best_known,
    select_files,
    to_instance,
)
from bench.routing.runner import SolveTask, run_isolated
from routing.check import check
from routing.model import TimeWindow

DATA = Path(__file__).resolve().parents[3] / "shared" / "bench"
needs_data = pytest.mark.skipif(not (DATA / "solomon").is_dir(), reason=f"benchmark data not found at {DATA}")

TINY = """TINY

VEHICLE
NUMBER     CAPACITY
  2         10

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      0          0          0          0        100          0
    1      3          4          6          0         15          1
    2      6          8          6          5         50          1
"""


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "TINY.txt"
    path.write_text(TINY)
    return path


@needs_data
def test_c101_has_100_customers_25_vehicles_of_capacity_200() -> None:
    c101 = parse_vrptw(DATA / "solomon" / "C101.txt")
    assert (c101.name, c101.customers, c101.vehicles, c101.capacity) == ("C101", 100, 25, 200)
    assert (c101.x[0], c101.y[0], c101.due[0]) == (40, 50, 1236)
    first = (c101.x[1], c101.y[1], c101.demand[1], c101.ready[1], c101.due[1], c101.service[1])
    assert first == (45, 68, 10, 912, 967, 90)


@needs_data
def test_homberger_c1_2_1_has_200_customers_and_50_vehicles() -> None:
    c1_2_1 = parse_vrptw(DATA / "homberger" / "C1_2_1.txt")
    assert (c1_2_1.name, c1_2_1.customers, c1_2_1.vehicles, c1_2_1.capacity) == ("C1_2_1", 200, 50, 200)
    assert (c1_2_1.x[1], c1_2_1.y[1], c1_2_1.demand[1], c1_2_1.ready[1], c1_2_1.due[1]) == (33, 78, 20, 750, 809)


@needs_data
def test_best_known_prefers_the_distance_only_value() -> None:
    solomon = read_best_known(DATA / "solomon" / "bks.csv")
    homberger = read_best_known(DATA / "homberger" / "bks.csv")
    assert len(solomon) == 56
    assert solomon["R101"].reference == solomon["R101"].dist_only_distance == 1642.88
    assert solomon["R101"].vehicles == 19 and solomon["R101"].dist_only_vehicles == 20
    assert homberger["C1_2_1"].dist_only_distance is None
    assert homberger["C1_2_1"].reference == homberger["C1_2_1"].distance == 2704.57


def test_gap_is_relative_to_the_reference_distance() -> None:
    best = BestKnown(vehicles=10, distance=900.0, dist_only_vehicles=11, dist_only_distance=800.0)
    assert gap_percent(808.0, best) == pytest.approx(1.0)
    assert gap_percent(800.0, BestKnown(10, 800.0, None, None)) == 0.0


@needs_data
def test_instances_are_chosen_by_names_and_globs() -> None:
    folder = DATA / "solomon"
    assert [path.stem for path in select_files(folder, "C101,r101")] == ["C101", "R101"]
    assert len(select_files(folder, "C1*")) == 9
    assert len(select_files(folder, None)) == 56
    with pytest.raises(ValueError, match="no instance"):
        select_files(folder, "X999")


def test_a_file_without_a_customer_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "BAD.txt"
    path.write_text("BAD\n\nVEHICLE\nNUMBER CAPACITY\n 2 10\n")
    with pytest.raises(ValueError, match="not a Solomon-format"):
        parse_vrptw(path)


def test_conversion_scales_times_and_keeps_fleet_capacity_and_demand(tiny: Path) -> None:
    instance = to_instance(parse_vrptw(tiny))
    assert [team.key for team in instance.teams] == ["v1", "v2"]
    assert all(team.capacity == 10 and team.shift == TimeWindow(0, 100 * SCALE) for team in instance.teams)
    first = instance.stop("c1")
    assert (first.location, first.demand, first.service_s, first.must_visit) == (1, 6, SCALE, True)
    assert first.windows == (TimeWindow(0, 15 * SCALE),)
    assert instance.distances_m[0, 1] == instance.durations_s[0, 1] == 5 * SCALE
    assert instance.distances_m[0, 2] == 10 * SCALE


def test_competitor_routes_become_a_plan_the_checker_accepts(tiny: Path) -> None:
    vrptw = parse_vrptw(tiny)
    instance = to_instance(vrptw)
    plan = plan_from_routes(instance, routes_to_keys([[1], [2]]), engine="test", wall_s=0.0, seed=1)
    report = check(instance, plan, distances=euclidean_matrix(vrptw))
    assert report.ok, report.violations
    assert report.distance == pytest.approx(10.0 + 20.0)
    second = plan.routes[1].visits[0]
    assert (second.arrival_s, second.wait_s, second.start_s) == (10 * SCALE, 0, 10 * SCALE)


def test_exact_lateness_is_measured_in_the_files_own_times(tiny: Path) -> None:
    vrptw = parse_vrptw(tiny)
    assert exact_lateness(vrptw, [[1], [2]]) == 0.0
    assert exact_lateness(vrptw, [[2, 1]]) == pytest.approx(1.0)  # c2 at 10, served until 11, c1 at 16 > 15


def test_the_checker_refuses_routes_over_capacity_and_missing_stops(tiny: Path) -> None:
    instance = to_instance(parse_vrptw(tiny))
    together = check(instance, plan_from_routes(instance, [["c1", "c2"]], engine="test", wall_s=0.0, seed=1))
    assert any("capacity" in violation for violation in together.violations)
    missing = check(instance, plan_from_routes(instance, [["c1"]], engine="test", wall_s=0.0, seed=1))
    assert any("c2" in violation for violation in missing.violations)


def test_branch_day_is_the_same_for_the_same_seed() -> None:
    first, again, other = branch_day(200, 7), branch_day(200, 7), branch_day(200, 8)
    assert first.stops == again.stops and first.teams == again.teams
    assert np.array_equal(first.durations_s, again.durations_s)
    assert np.array_equal(first.distances_m, again.distances_m)
    assert first.stops != other.stops


def test_branch_day_of_1000_visits_has_60_teams_with_shifts_breaks_and_skills() -> None:
    day = branch_day(1000, 1)
    assert len(day.stops) == 1000 and len(day.teams) == team_count(1000) == 60
    assert day.durations_s.shape == (1001, 1001)
    assert all(team.shift == SHIFT and team.max_visits == MAX_VISITS and team.breaks == (LUNCH,) for team in day.teams)
    assert sum(EXPERIENCED in team.skills for team in day.teams) == 20
    complaints = sum(EXPERIENCED in stop.required_skills for stop in day.stops)
    preferred = sum(stop.windows[0].end_s - stop.windows[0].start_s <= 4 * 3600 for stop in day.stops)
    assert 60 <= complaints <= 140 and 330 <= preferred <= 470
    assert all(15 * 60 <= stop.service_s <= 40 * 60 and stop.drop_cost > 0 for stop in day.stops)
    assert all(w.start_s >= 8 * 3600 and w.end_s <= 21 * 3600 for stop in day.stops for w in stop.windows)
    assert day.distances_m.max() < 60_000  # 30 x 30 km, with the detour factor


def test_a_solve_runs_in_its_own_process_and_reports_its_memory(tiny: Path) -> None:
    solved = run_isolated(SolveTask("vroom", parse_vrptw(tiny), 1.0, 1), timeout_s=60)
    assert solved.error is None and sorted(solved.result) == [[1], [2]]  # capacity 10 cannot carry both
    assert solved.peak_mib > 0 and solved.wall_s > 0
