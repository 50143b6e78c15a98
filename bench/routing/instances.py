"""Solomon and Gehring–Homberger VRPTW instances: parsing, best-known solutions, and conversion to the library's model.

Both collections share the Solomon text format: a name line, a VEHICLE section (fleet size, capacity) and a CUSTOMER
table whose first row is the depot. Times equal Euclidean distances. The library works in integers, so coordinates,
windows and service times are scaled by ``SCALE`` and travel is ``round(euclid * SCALE)``; the distance a solver is
judged on is recomputed from its routes with the exact (double-precision) Euclidean distances.
"""

import csv
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import numpy as np
import numpy.typing as npt

from routing.model import Instance, Stop, Team, TimeWindow

SCALE = 100
DEPOT = 0  # row of the depot in every matrix built here


@dataclass(frozen=True, slots=True)
class VrptwInstance:
    """One VRPTW instance as written in the file; row 0 of every array is the depot, rows 1.. the customers."""

    name: str
    vehicles: int
    capacity: int
    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    demand: npt.NDArray[np.int64]
    ready: npt.NDArray[np.int64]
    due: npt.NDArray[np.int64]
    service: npt.NDArray[np.int64]

    @property
    def customers(self) -> int:
        return len(self.x) - 1


@dataclass(frozen=True, slots=True)
class BestKnown:
    """A row of bks.csv: the hierarchical best-known solution and, where known, the distance-only one."""

    vehicles: int
    distance: float
    dist_only_vehicles: int | None
    dist_only_distance: float | None

    @property
    def reference(self) -> float:
        """The distance the gap is measured against: distance-only where known, else the hierarchical distance."""
        return self.dist_only_distance if self.dist_only_distance is not None else self.distance


def parse_vrptw(path: Path) -> VrptwInstance:
    """Read a Solomon-format file (Solomon or Gehring–Homberger); raise ValueError when it is malformed."""
    lines = [line.split() for line in path.read_text().splitlines()]
    rows = [fields for fields in lines if fields]
    try:
        vehicle_at = next(i for i, fields in enumerate(rows) if fields[0].upper() == "VEHICLE")
        vehicles, capacity = (int(value) for value in rows[vehicle_at + 2])
        customer_at = next(i for i, fields in enumerate(rows) if fields[0].upper() == "CUSTOMER")
        table = np.array([[float(value) for value in fields] for fields in rows[customer_at + 2 :]])
    except (StopIteration, ValueError) as error:
        raise ValueError(f"{path}: not a Solomon-format VRPTW file ({error})") from error
    if table.ndim != 2 or table.shape[1] != 7 or table.shape[0] < 2:
        raise ValueError(f"{path}: expected a customer table of 7 columns with a depot and customers")
    if not np.array_equal(table[:, 0], np.arange(len(table))):
        raise ValueError(f"{path}: customers must be numbered 0 (depot), 1, 2, ... in order")
    integral = table[:, 3:]
    if not np.array_equal(integral, np.round(integral)):
        raise ValueError(f"{path}: demand, ready time, due date and service time must be integers")
    ints = integral.astype(np.int64)
    return VrptwInstance(
        name=path.stem,
        vehicles=vehicles,
        capacity=capacity,
        x=table[:, 1].copy(),
        y=table[:, 2].copy(),
        demand=ints[:, 0].copy(),
        ready=ints[:, 1].copy(),
        due=ints[:, 2].copy(),
        service=ints[:, 3].copy(),
    )


def read_best_known(path: Path) -> dict[str, BestKnown]:
    """Read a bks.csv into best-known solutions by instance name."""

    def optional(value: str, kind: type[int] | type[float]) -> int | float | None:
        return kind(value) if value.strip() else None

    with path.open(newline="") as handle:
        return {
            row["instance"]: BestKnown(
                vehicles=int(row["vehicles"]),
                distance=float(row["distance"]),
                dist_only_vehicles=optional(row["dist_only_vehicles"], int),  # type: ignore[arg-type]
                dist_only_distance=optional(row["dist_only_distance"], float),
            )
            for row in csv.DictReader(handle)
        }


def gap_percent(distance: float, best: BestKnown) -> float:
    """The distance-only gap: 100 * (distance - reference) / reference."""
    return 100.0 * (distance - best.reference) / best.reference


def select_files(folder: Path, pattern: str | None) -> list[Path]:
    """The instance files of a folder, in name order, filtered by a comma list of names or shell globs."""
    files = sorted(path for path in folder.glob("*.txt"))
    if pattern is None:
        return files
    wanted = [part.strip().upper() for part in pattern.split(",") if part.strip()]
    chosen = [path for path in files if any(fnmatch(path.stem.upper(), want) for want in wanted)]
    if not chosen:
        raise ValueError(f"no instance in {folder} matches {pattern!r}")
    return chosen


def euclidean_matrix(vrptw: VrptwInstance) -> npt.NDArray[np.float64]:
    """Exact Euclidean distances between all locations (the unit of the file), row 0 the depot."""
    dx = vrptw.x[:, None] - vrptw.x[None, :]
    dy = vrptw.y[:, None] - vrptw.y[None, :]
    return np.hypot(dx, dy)


def scaled_matrix(vrptw: VrptwInstance) -> npt.NDArray[np.int64]:
    """Integer travel times and distances: round(euclid * SCALE), as every solver in the benchmark receives them."""
    return np.rint(euclidean_matrix(vrptw) * SCALE).astype(np.int64)


def team_key(vehicle: int) -> str:
    return f"v{vehicle + 1}"


def stop_key(customer: int) -> str:
    return f"c{customer}"


def to_instance(vrptw: VrptwInstance) -> Instance:
    """The library's Instance: a team per vehicle from and to the depot within its window, every customer a
    must-visit stop with its demand, window and service time; everything in time units x SCALE."""
    shift = TimeWindow(int(vrptw.ready[DEPOT]) * SCALE, int(vrptw.due[DEPOT]) * SCALE)
    teams = [
        Team(key=team_key(v), start_location=DEPOT, end_location=DEPOT, shift=shift, capacity=vrptw.capacity)
        for v in range(vrptw.vehicles)
    ]
    stops = [
        Stop(
            key=stop_key(c),
            location=c,
            service_s=int(vrptw.service[c]) * SCALE,
            windows=(TimeWindow(int(vrptw.ready[c]) * SCALE, int(vrptw.due[c]) * SCALE),),
            must_visit=True,
            demand=int(vrptw.demand[c]),
        )
        for c in range(1, vrptw.customers + 1)
    ]
    matrix = scaled_matrix(vrptw)
    return Instance(teams, stops, durations_s=matrix, distances_m=matrix)


def exact_lateness(vrptw: VrptwInstance, routes: list[list[int]]) -> float:
    """The largest lateness of the routes (customer numbers in order) in the file's own double-precision times:
    0.0 when they are feasible under the Solomon convention, not only after scaling and rounding."""
    exact = euclidean_matrix(vrptw)
    late = 0.0
    for route in routes:
        clock, here = float(vrptw.ready[DEPOT]), DEPOT
        for customer in route:
            clock = max(clock + exact[here, customer], float(vrptw.ready[customer]))
            late = max(late, clock - float(vrptw.due[customer]))
            clock, here = clock + float(vrptw.service[customer]), customer
        if route:
            late = max(late, clock + exact[here, DEPOT] - float(vrptw.due[DEPOT]))
    return late
