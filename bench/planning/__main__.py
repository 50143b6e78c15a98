"""`python -m bench.planning`: plan a generated branch day through the service layer, time each phase, print a table.

See bench/README.md for the columns and how to run it.
"""

import argparse
import csv
import sys
from collections.abc import Sequence
from dataclasses import astuple, fields, replace
from pathlib import Path

from bench.planning.in_day import measure_in_day, print_in_day
from bench.planning.measure import DatabaseNotEmpty, Day, PlanningFailed, PlanningRow, measure, median_row

TARGET_SHARE = 0.10  # the issue: "solving dominates, and the rest stays under 10 % of it"
RULES_SHARE = 0.05  # issue 17: "the rules add under 5 % to the non-solve time of a 1,000-request day"
# issue 19: a re-solve after one pin within 10 s (3 s on the demo day), planned count and km within 0.5 % of cold
RESOLVE_S, DEMO_RESOLVE_S, RESOLVE_SHARE = 10.0, 3.0, 0.005
LIMIT_SLACK_S = 0.5  # the solver stops within this of the time limit it was given (a run of 1 s: by 1.5 s)
HEADER = (
    "run",
    "requests",
    "teams",
    "planned",
    "unplanned",
    "km",
    "load s",
    "rules s",
    "matrix s",
    "solve s",
    "store s",
    "other s",
    "other %",
    "rules %",
    "total s",
    "engine",
    "peak MiB",
)
WIDTHS = (6, 8, 5, 7, 9, 9, 7, 7, 8, 8, 7, 7, 7, 7, 8, 13, 8)


def _cells(row: PlanningRow) -> tuple[str, ...]:
    seconds = (row.load_s, row.rules_s, row.matrix_s, row.solve_s, row.store_s, row.other_s)
    return (
        row.run,
        *(str(count) for count in (row.requests, row.teams, row.planned, row.unplanned)),
        f"{row.distance_km:.1f}",
        *(f"{value:.3f}" for value in seconds),
        f"{row.other_pct:.1f}",
        f"{row.rules_pct:.2f}",
        f"{row.total_s:.3f}",
        row.engine,
        f"{row.peak_mib:.1f}",
    )


def _print_line(cells: Sequence[str]) -> None:
    print("  ".join(cell.ljust(width) for cell, width in zip(cells, WIDTHS, strict=True)).rstrip(), flush=True)


def _print_verdict(row: PlanningRow, label: str) -> None:
    limit_s = TARGET_SHARE * row.solve_s
    print(f"\ntarget ({label}): solving dominates, the rest stays under {TARGET_SHARE:.0%} of solve = {limit_s:.3f} s")
    for name, seconds in (("load+rules+matrix+store", row.phases_s), ("total - solve", row.other_s)):
        print(f"  {name:<23} {seconds:7.3f} s  {'PASS' if seconds < limit_s else 'FAIL'}")
    rest_s = row.other_s - row.rules_s
    print(
        f"target ({label}): the field rules add under {RULES_SHARE:.0%} to the rest outside the solve = {rest_s:.3f} s"
    )
    verdict = "PASS" if row.rules_s < RULES_SHARE * rest_s else "FAIL"
    print(f"  {'rules':<23} {row.rules_s:7.3f} s  {row.rules_pct:.2f} %  {verdict}")


def _print_resolve_verdict(cold: PlanningRow, warm: PlanningRow, demo: bool) -> None:
    """Issue 19's target: the warm re-solve against the same re-solve from scratch for the whole limit."""
    within_s = DEMO_RESOLVE_S if demo else RESOLVE_S
    print(f"\ntarget: a re-solve after one pin within {within_s:.0f} s, planned and km no worse by {RESOLVE_SHARE:.1%}")
    print(f"  of the same re-solve from scratch ({cold.solve_s:.1f} s of solving)")
    print(f"  {'re-solve total':<23} {warm.total_s:7.3f} s  {'PASS' if warm.total_s <= within_s else 'FAIL'}")
    # "within 0.5 %" read as no worse by more than that: fewer planned, or more km; a better plan passes
    for name, before, after, sign in (
        ("planned", cold.planned, warm.planned, -1),
        ("km", cold.distance_km, warm.distance_km, 1),
    ):
        change = (after - before) / before if before else 0.0
        verdict = "PASS" if sign * change <= RESOLVE_SHARE else "FAIL"
        print(f"  {name:<23} {before:>10} -> {after:<10} {change:+.2%}  {verdict}")


def _print_limit_verdict(rows: Sequence[tuple[str, PlanningRow]]) -> None:
    """The solver keeps to the time limit each run gave it (re-solves that settle stop well before theirs)."""
    print(f"\ntarget: the solver stops within {LIMIT_SLACK_S} s of its time limit")
    for name, row in rows:
        verdict = "PASS" if row.solver_wall_s <= row.time_limit_s + LIMIT_SLACK_S else "FAIL"
        print(f"  {name:<23} {row.solver_wall_s:7.3f} s of {row.time_limit_s} s  {verdict}")


def _write_csv(path: Path, rows: Sequence[PlanningRow]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(field.name for field in fields(PlanningRow))
        writer.writerows(astuple(row) for row in rows)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.planning", description=__doc__)
    parser.add_argument("--requests", type=int, default=1000, help="open visit requests of the day (default 1000)")
    parser.add_argument("--teams", type=int, default=60, help="teams on duty (default 60)")
    parser.add_argument("--time-limit", type=int, default=60, help="solver seconds (default 60)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        help="an existing empty database, left holding the day (default: SQLite in a temporary folder)",
    )
    parser.add_argument("--csv", type=Path, help="write the rows here")
    parser.add_argument("--repeat", type=int, default=1, help="runs, each on a fresh database (default 1)")
    parser.add_argument(
        "--resolve", action="store_true", help="then pin one request to another team and time the re-solve"
    )
    parser.add_argument("--demo", action="store_true", help="plan the demo branch's day instead of a generated one")
    parser.add_argument(
        "--in-day",
        action="store_true",
        help="publish the day, then at 11:00 (40 %% done, 3 teams down) time the in-day re-plan, a cold re-plan and"
        " an urgent visit (bench/planning/in_day.py)",
    )
    args = parser.parse_args(argv)
    if min(args.requests, args.teams, args.time_limit, args.repeat) < 1:
        parser.error("--requests, --teams, --time-limit and --repeat must be at least 1")
    if args.repeat > 1 and args.database_url:
        parser.error("--repeat needs a fresh database per run: leave out --database-url")
    return args


def _runs(args: argparse.Namespace) -> tuple[list[PlanningRow], list[PlanningRow], list[PlanningRow]]:
    """The runs the arguments ask for, their warm re-solves and the same re-solves from scratch, printed as they
    finish, each list ending with its median when there are several."""
    day = Day(args.requests, args.teams, args.seed, demo=args.demo)
    kinds: tuple[list[PlanningRow], list[PlanningRow], list[PlanningRow]] = ([], [], [])
    for number in range(1, args.repeat + 1):
        rows = measure(day, args.time_limit, database_url=args.database_url, run=str(number), resolve=args.resolve)
        for kind, row in zip(kinds, rows, strict=False):
            kind.append(row)
            _print_line(_cells(row))
    for rows, name in zip(kinds, ("median", "med r", "med c"), strict=True):
        if len(rows) > 1:
            rows.append(replace(median_row(rows), run=name))
            _print_line(_cells(rows[-1]))
    return kinds


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark the arguments ask for."""
    args = _arguments(argv)
    if args.in_day:
        print(f"in-day: {args.requests} requests, {args.teams} teams, evening {args.time_limit} s, seed {args.seed}")
        try:
            result = measure_in_day(
                args.requests, args.teams, args.seed, args.time_limit, database_url=args.database_url
            )
        except (DatabaseNotEmpty, PlanningFailed) as error:
            raise SystemExit(f"{type(error).__name__}: {error}") from None
        print_in_day(result)
        return
    what = "the demo day" if args.demo else f"{args.requests} requests, {args.teams} teams"
    print(f"planning: {what}, {args.time_limit} s, seed {args.seed}", flush=True)
    _print_line(HEADER)
    try:
        plans, warm, scratch = _runs(args)
    except (DatabaseNotEmpty, PlanningFailed) as error:
        raise SystemExit(f"{type(error).__name__}: {error}") from None
    _print_verdict(plans[-1], f"median of {args.repeat} runs" if args.repeat > 1 else "run 1")
    if warm:
        _print_resolve_verdict(scratch[-1], warm[-1], args.demo)
    kinds = (("plan", plans), ("re-solve", warm), ("re-solve from scratch", scratch))
    _print_limit_verdict([(name, rows[-1]) for name, rows in kinds if rows])
    if args.csv:
        _write_csv(args.csv, plans + warm + scratch)
        print(f"\nwrote {args.csv}")


if __name__ == "__main__":
    main(sys.argv[1:])
