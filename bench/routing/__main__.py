"""`python -m bench.routing solomon|homberger|branch-day ...`: solve, check every plan alike, print a table and a CSV.

See bench/README.md for the columns and how to run it.
"""

import argparse
import csv
import math
import statistics
import sys
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from bench.routing.branch_day import BranchDay
from bench.routing.competitors import SOLVERS, library_entry_point, plan_from_routes, routes_to_keys
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
from bench.routing.runner import SolveOutcome, SolveTask, run_isolated
from routing.check import CheckReport, check
from routing.model import Instance
from routing.plan import Plan

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "bench"
DEFAULT_TIME_LIMIT_S = {"solomon": 10.0, "homberger": 60.0, "branch-day": 60.0}
DEFAULT_SIZES = "100,250,500,1000,2000"


@dataclass(frozen=True, slots=True)
class Row:
    """One solver on one instance, as printed and written to the CSV."""

    instance: str
    solver: str
    feasible: bool
    vehicles: int
    distance: float
    bks: float
    gap_pct: float
    wall_s: float
    peak_mib: float
    late_exact: float
    engine: str
    note: str


@dataclass(frozen=True, slots=True)
class DayRow:
    """The library on one generated branch day."""

    visits: int
    teams: int
    feasible: bool
    planned: int
    dropped: int
    distance_km: float
    wall_s: float
    peak_mib: float
    engine: str
    note: str


def _timeout_s(solver: str, time_limit_s: float) -> float:
    """How long a solve may take before it is killed: VROOM has no time limit, so it gets a generous allowance."""
    return 20 * time_limit_s + 600 if solver == "vroom" else 3 * time_limit_s + 120


def _plan_of(outcome: SolveOutcome, instance: Instance, solver: str, seed: int) -> Plan | None:
    if outcome.result is None:
        return None
    if isinstance(outcome.result, Plan):
        return outcome.result
    keys = routes_to_keys(outcome.result)
    return plan_from_routes(instance, keys, engine=solver, wall_s=outcome.wall_s, seed=seed)


def _customer_routes(instance: Instance, plan: Plan) -> list[list[int]]:
    locations = {stop.key: stop.location for stop in instance.stops}
    return [[locations[visit.stop] for visit in route.visits if visit.stop in locations] for route in plan.routes]


def _note(outcome: SolveOutcome, verdict: CheckReport | None) -> str:
    if outcome.error is not None:
        return outcome.error
    if verdict is None:
        return "no plan returned"
    if verdict.ok:
        return ""
    return f"{len(verdict.violations)} violations, first: {verdict.violations[0]}"


def _vrptw_row(path: Path, solver: str, best: BestKnown, args: argparse.Namespace) -> Row:
    vrptw = parse_vrptw(path)
    instance = to_instance(vrptw)
    outcome = run_isolated(SolveTask(solver, vrptw, args.time_limit, args.seed), _timeout_s(solver, args.time_limit))
    plan = _plan_of(outcome, instance, solver, args.seed)
    verdict = check(instance, plan, distances=euclidean_matrix(vrptw)) if plan is not None else None
    distance = verdict.distance if verdict is not None and verdict.planned else math.nan
    return Row(
        instance=vrptw.name,
        solver=solver,
        feasible=verdict is not None and verdict.ok,
        vehicles=verdict.vehicles_used if verdict is not None else 0,
        distance=distance,
        bks=best.reference,
        gap_pct=gap_percent(distance, best),
        wall_s=outcome.wall_s,
        peak_mib=outcome.peak_mib,
        late_exact=exact_lateness(vrptw, _customer_routes(instance, plan)) if plan is not None else math.nan,
        engine=plan.stats.engine if plan is not None else "",
        note=_note(outcome, verdict),
    )


def _day_row(size: int, args: argparse.Namespace) -> DayRow:
    day = BranchDay(size, args.seed)
    instance = day.build()
    outcome = run_isolated(SolveTask("library", day, args.time_limit, args.seed), 3 * args.time_limit + 300)
    plan = _plan_of(outcome, instance, "library", args.seed)
    verdict = check(instance, plan) if plan is not None else None
    return DayRow(
        visits=size,
        teams=len(instance.teams),
        feasible=verdict is not None and verdict.ok,
        planned=len(plan.planned) if plan is not None else 0,
        dropped=len(plan.dropped) if plan is not None else size,
        distance_km=plan.distance_m / 1000 if plan is not None else math.nan,
        wall_s=outcome.wall_s,
        peak_mib=outcome.peak_mib,
        engine=plan.stats.engine if plan is not None else "",
        note=_note(outcome, verdict),
    )


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{round(value, 2) + 0.0:.2f}"  # + 0.0: no "-0.00"
    return str(value)


def _print_line(cells: Sequence[object], widths: Sequence[int]) -> None:
    print("  ".join(_cell(cell).ljust(width) for cell, width in zip(cells, widths, strict=False)), flush=True)


def _write_csv(path: Path, rows: Sequence[Row] | Sequence[DayRow], kind: type[Row] | type[DayRow]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(field.name for field in fields(kind))
        writer.writerows(astuple(row) for row in rows)


def _summary(rows: Sequence[Row], solvers: Sequence[str]) -> None:
    print("\nsolver            feasible  mean gap % (feasible)  median wall s")
    for solver in solvers:
        mine = [row for row in rows if row.solver == solver]
        gaps = [row.gap_pct for row in mine if row.feasible]
        mean_gap = statistics.fmean(gaps) if gaps else math.nan
        wall = statistics.median(row.wall_s for row in mine)
        print(f"{solver:<17} {len(gaps):>3}/{len(mine):<5} {_cell(mean_gap):>21}  {_cell(wall):>13}")


def _solvers(requested: str) -> list[str]:
    solvers = [name.strip() for name in requested.split(",") if name.strip()]
    unknown = sorted(set(solvers) - set(SOLVERS))
    if unknown:
        raise SystemExit(f"unknown solvers {unknown}; choose from {', '.join(SOLVERS)}")
    if "library" in solvers and library_entry_point() is None:
        print("library: routing has neither solve() nor solver.solve_ortools yet, its column is skipped", flush=True)
        solvers.remove("library")
    return solvers


def run_collection(args: argparse.Namespace) -> list[Row]:
    """Every selected instance of a collection by every selected solver; prints rows as they finish."""
    folder = args.data / args.collection
    best_known = read_best_known(folder / "bks.csv")
    files = select_files(folder, args.instances)
    solvers = _solvers(args.solvers)
    widths = (10, 17, 8, 8, 10, 10, 7, 7, 13)
    print(f"{args.collection}: {len(files)} instances, {args.time_limit:g} s, seed {args.seed}, scale {SCALE}")
    _print_line(("instance", "solver", "feasible", "vehicles", "distance", "bks", "gap %", "wall s", "engine"), widths)
    rows = []
    for path in files:
        for solver in solvers:
            row = _vrptw_row(path, solver, best_known[path.stem], args)
            rows.append(row)
            _print_line((*astuple(row)[:8], row.engine), widths)
            if row.note:
                print(f"    {row.note}", flush=True)
    _summary(rows, solvers)
    return rows


def run_branch_days(args: argparse.Namespace) -> list[DayRow]:
    """The library on generated branch days of each size; prints rows as they finish."""
    if library_entry_point() is None:
        raise SystemExit("branch-day runs the library only, and routing has no solve() yet")
    widths = (6, 5, 8, 7, 7, 11, 7, 8, 13)
    print(f"branch-day: {args.time_limit:g} s, seed {args.seed}")
    header = ("visits", "teams", "feasible", "planned", "dropped", "distance km", "solve s", "peak MiB", "engine")
    _print_line(header, widths)
    rows = []
    for size in (int(value) for value in args.sizes.split(",")):
        row = _day_row(size, args)
        rows.append(row)
        _print_line((*astuple(row)[:8], row.engine), widths)
        if row.note:
            print(f"    {row.note}", flush=True)
    return rows


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.routing", description=__doc__)
    parser.add_argument("collection", choices=("solomon", "homberger", "branch-day"))
    parser.add_argument("--instances", help="comma-separated names or globs, e.g. C101,R1* (default: all)")
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="branch-day: visits per generated day")
    parser.add_argument("--time-limit", type=float, help="seconds per solve (default 10 solomon, 60 otherwise)")
    parser.add_argument("--solvers", default=",".join(SOLVERS), help=f"comma-separated from {', '.join(SOLVERS)}")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--csv", type=Path, help="write the rows here")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder holding solomon/ and homberger/")
    args = parser.parse_args(argv)
    if args.time_limit is None:
        args.time_limit = DEFAULT_TIME_LIMIT_S[args.collection]
    return args


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark the arguments ask for."""
    args = _arguments(argv)
    if args.collection == "branch-day":
        day_rows = run_branch_days(args)
        if args.csv:
            _write_csv(args.csv, day_rows, DayRow)
    else:
        rows = run_collection(args)
        if args.csv:
            _write_csv(args.csv, rows, Row)
    if args.csv:
        print(f"\nwrote {args.csv}")


if __name__ == "__main__":
    main(sys.argv[1:])
