"""`python -m bench.addresses grades|geocode|precheck`: the address benches.

- `grades [--count 2000] [--seed 1]`: grade generated Shanghai addresses against their truth. Prints the load time of
  the division table (the first parse reads it), the confusion table (rows: the true grade, columns: the grade given),
  the accuracy, each grade's precision and recall, the first addresses graded otherwise, and the
  throughput of `describe` (addresses per second, the median of 3 passes over all of them).
- `geocode [--count 2000] [--seed 1] [--per-second 200] [--database-url URL]`: geocode a branch of generated
  text-only addresses against an AMap double, cold then warm, and check the rate limit (bench/addresses/geocode.py).
- `precheck [--requests 1000] [--seed 1] [--database-url URL]`: time the evening pre-check of a branch day
  (bench/addresses/precheck.py).
"""

import argparse
import statistics
import time
from collections import Counter
from collections.abc import Sequence

from api.rules.grades import AddressGrade
from api.rules.grading import describe, parse
from bench.addresses.generate import Sample, generate
from bench.addresses.geocode import bench_geocode
from bench.addresses.precheck import bench_precheck
from bench.planning.measure import DatabaseNotEmpty

PASSES = 3
MISTAKES_SHOWN = 15
GRADES = list(AddressGrade)


def _load_s() -> float:
    start = time.perf_counter()
    parse("上海市浦东新区银城中路722弄8号1201室")
    return time.perf_counter() - start


def _throughput(texts: Sequence[str]) -> float:
    """Addresses per second through `describe`, the median of the passes."""
    rates = []
    for _ in range(PASSES):
        start = time.perf_counter()
        for text in texts:
            describe(text)
        rates.append(len(texts) / (time.perf_counter() - start))
    return statistics.median(rates)


def _print_confusion(pairs: Counter[tuple[AddressGrade, AddressGrade]]) -> None:
    width = max(len(grade) for grade in GRADES) + 2
    print("confusion (rows: true grade, columns: graded)")
    print(" " * width + "".join(grade.value.rjust(width) for grade in GRADES))
    for truth in GRADES:
        print(truth.value.ljust(width) + "".join(str(pairs[truth, given]).rjust(width) for given in GRADES))


def _print_scores(pairs: Counter[tuple[AddressGrade, AddressGrade]], total: int) -> None:
    right = sum(pairs[grade, grade] for grade in GRADES)
    print(f"\naccuracy: {right / total:.1%} ({right} / {total})\n")
    print(f"{'grade':<16}{'precision':>10}{'recall':>10}{'true':>7}{'graded':>8}")
    for grade in GRADES:
        true = sum(pairs[grade, given] for given in GRADES)
        graded = sum(pairs[truth, grade] for truth in GRADES)
        precision = f"{pairs[grade, grade] / graded:.1%}" if graded else "-"
        recall = f"{pairs[grade, grade] / true:.1%}" if true else "-"
        print(f"{grade.value:<16}{precision:>10}{recall:>10}{true:>7}{graded:>8}")


def _print_mistakes(samples: Sequence[Sample], given: Sequence[AddressGrade]) -> None:
    mistakes = [(sample, grade) for sample, grade in zip(samples, given, strict=True) if sample.grade is not grade]
    print(f"\ngraded otherwise: {len(mistakes)} (the first {min(len(mistakes), MISTAKES_SHOWN)})")
    for sample, grade in mistakes[:MISTAKES_SHOWN]:
        print(f"  {sample.grade.value:>9} -> {grade.value:<9} {sample.shape:<34} {sample.text}")


def grades(count: int, seed: int) -> None:
    load_s = _load_s()
    samples = generate(count, seed)
    given = [describe(sample.text)[0] for sample in samples]
    pairs = Counter((sample.grade, grade) for sample, grade in zip(samples, given, strict=True))
    print(f"{count} generated Shanghai addresses, seed {seed}")
    print(f"division table load (the first parse, its reading included): {load_s:.3f} s\n")
    _print_confusion(pairs)
    _print_scores(pairs, count)
    _print_mistakes(samples, given)
    rate = _throughput([sample.text for sample in samples])
    print(f"\nthroughput: {rate:,.0f} addresses/s (describe, median of {PASSES} passes over {count})")


def _positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {value}")
    return number


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.addresses", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    grading = commands.add_parser("grades", help="grade generated addresses against their truth")
    grading.add_argument("--count", type=int, default=2000)
    grading.add_argument("--seed", type=int, default=1)
    database_help = "an empty database (PostGIS or a SQLite file), migrated and left holding the bench's rows"
    geocoding = commands.add_parser("geocode", help="geocode a branch's text addresses against an AMap double")
    geocoding.add_argument("--count", type=int, default=2000, help="addresses (default 2000)")
    geocoding.add_argument("--seed", type=int, default=1)
    geocoding.add_argument("--per-second", type=_positive, default=200, help="the limiter's rate (default 200)")
    geocoding.add_argument("--slow-count", type=int, default=30, help="addresses of the slow pass (default 30)")
    geocoding.add_argument("--slow-per-second", type=_positive, default=3, help="its rate (default 3: AMap's QPS)")
    geocoding.add_argument("--database-url", help=database_help + " (default: SQLite in a temporary folder)")
    prechecking = commands.add_parser("precheck", help="time the evening pre-check of a branch day")
    prechecking.add_argument("--requests", type=int, default=1000, help="visit requests due (default 1000)")
    prechecking.add_argument("--seed", type=int, default=1)
    prechecking.add_argument("--database-url", help=database_help + " (default: SQLite in a temporary folder)")
    arguments = parser.parse_args(argv)
    if min(getattr(arguments, name, 1) for name in ("count", "requests", "slow_count")) < 1:
        parser.error("--count, --requests and --slow-count must be at least 1")
    return arguments


def main(argv: Sequence[str] | None = None) -> None:
    """Run the bench the arguments name."""
    arguments = _arguments(argv)
    try:
        if arguments.command == "grades":
            grades(arguments.count, arguments.seed)
        elif arguments.command == "geocode":
            bench_geocode(
                arguments.count,
                arguments.seed,
                arguments.per_second,
                database_url=arguments.database_url,
                slow_count=arguments.slow_count,
                slow_per_second=arguments.slow_per_second,
                report=lambda line: print(line, flush=True),
            )
        else:
            bench_precheck(
                arguments.requests,
                arguments.seed,
                database_url=arguments.database_url,
                report=lambda line: print(line, flush=True),
            )
    except DatabaseNotEmpty as error:
        raise SystemExit(f"{type(error).__name__}: {error}") from None


if __name__ == "__main__":
    main()
