"""A small synthetic city as an OpenStreetMap .osm.pbf, for the tests and benches that build OSRM road data from it.

Laid out in metres (x east, y north) from the origin, which sits mid-river on the city's north-south centre line, and
turned into degrees with a local equirectangular approximation:

- an east-west river 300 m wide (``waterway=river`` on its centre line) with a grid of `blocks` x `blocks` blocks of
  `block_m` on each bank, the riverfront streets 50 m from the water. Its two-way streets: a ``highway=tertiary``
  every 5 blocks and along the edges, and between them ``highway=residential`` streets on some of the block-long
  segments, chosen at random (seeded: the same city every time) but so that every corner is on a street and
  reachable from every other: a full grid contracts hopelessly slowly (see `_streets`);
- three bridges (``highway=secondary``, ``bridge=yes``, ``layer=1``) at the west end, the middle and the east end,
  and no other way across: `north_bank` and `south_bank` face each other midway between the west and middle bridges;
- on the south bank, a stretch of about 500 m of one street is one-way (``oneway=yes``), flowing east from
  `one_way_start` to `one_way_end`;
- on the north bank, a walled compound (a 小区): a block enclosed by a ``barrier=wall`` whose internal service loop
  reaches the grid only through one ``barrier=gate``, on its north side; `compound_inside` is on the loop's south side
  and `compound_outside` on the street just south of the wall;
- an island: a closed loop of streets in the river joined to nothing. OSRM snaps a point onto the nearest road of a
  big piece of network (1,000 edge-based nodes or more: osrm-extract's --small-component-size) unless all the
  query's points are nearest one small piece: up to 15 blocks the whole city is small, so `island` snaps onto the
  island and has no route to or from the rest (null in a table); from 16 blocks it snaps onto the riverfront 170 m
  away and is routed from there;
- an elevated road (``highway=primary``, ``bridge=yes``, ``layer=1``) above one north-bank street, its centre line
  8 m north of the street's, joined to it only at the street's two ends; `under_elevated` is a door 6 m north of the
  street's centre line, nearer the elevated road's line than the street's, and `beside_elevated` a corner of the
  same street a block east of it;
- `office`, a north-bank corner, and `grid_0` ... `grid_9`, corners on both banks; `far_away`, 5 km south of the city.
"""

import itertools
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import osmium
from osmium.osm.mutable import Node, Way

from routing.matrix import EARTH_MEAN_RADIUS_M

Point = tuple[float, float]  # (lat, lon)

_RIVERFRONT_M = 200.0  # the first street on each bank, from the river's centre line (the water is 300 m wide)
_ONE_WAY_M = 500.0  # at least this long, in whole blocks
_FAR_AWAY_M = 5_000.0
_ELEVATED_OFFSET_M, _DOOR_UNDER_M = 8.0, 6.0  # north of the street below: the elevated road's line, the door
_ARTERIAL_BLOCKS = 5  # a tertiary road every this many blocks
_LOOPS = 0.2  # the share of the residential segments off the spanning tree that are streets all the same
_SEED = 1
_ISLAND = ((-60.0, 30.0), (60.0, 30.0), (60.0, 110.0), (-60.0, 110.0))  # corners: x from its centre, y from mid-river
# the grid points: bank (1 north, -1 south), then the fractions of the way east and away from the river
_GRID_POINTS = (
    (1, 0.1, 0.3),
    (1, 0.4, 0.9),
    (1, 0.6, 0.1),
    (1, 0.9, 0.55),
    (1, 0.25, 1.0),
    (-1, 0.2, 0.2),
    (-1, 0.5, 0.9),
    (-1, 0.8, 0.4),
    (-1, 0.35, 0.65),
    (-1, 0.95, 0.95),
)


# a block-long segment of a bank's grid: from corner (column i, row j) east along the row (True) or away from the
# river along the column (False)
_Segment = tuple[int, int, bool]


@dataclass(frozen=True)
class City:
    """A city written to `path`: its named places and the bounding box of its nodes."""

    path: Path
    points: Mapping[str, Point]
    bbox: tuple[float, float, float, float]  # (min_lat, min_lon, max_lat, max_lon)


class _Map:
    """Nodes placed in metres from an origin and ways between them, numbered from 1 in the order they are made."""

    def __init__(self, origin: Point) -> None:
        self.origin = origin
        self.m_per_deg_lat = EARTH_MEAN_RADIUS_M * math.pi / 180
        self.m_per_deg_lon = self.m_per_deg_lat * math.cos(math.radians(origin[0]))
        self.nodes: list[Node] = []
        self.ways: list[Way] = []
        self.points: list[Point] = []

    def at(self, x: float, y: float) -> Point:
        """The point `x` m east and `y` m north of the origin."""
        return self.origin[0] + y / self.m_per_deg_lat, self.origin[1] + x / self.m_per_deg_lon

    def node(self, x: float, y: float, **tags: str) -> int:
        """A new node at (`x`, `y`) m: its id."""
        lat, lon = self.at(x, y)
        self.points.append((lat, lon))
        self.nodes.append(Node(id=len(self.nodes) + 1, location=(lon, lat), tags=tags))
        return len(self.nodes)

    def way(self, nodes: list[int], **tags: str) -> None:
        """A new way through `nodes`."""
        self.ways.append(Way(id=len(self.ways) + 1, nodes=nodes, tags=tags))

    def bbox(self) -> tuple[float, float, float, float]:
        """(min_lat, min_lon, max_lat, max_lon) of the nodes."""
        lats, lons = zip(*self.points, strict=True)
        return min(lats), min(lons), max(lats), max(lons)

    def write(self, path: Path) -> None:
        """Nodes, then ways, each by id, as OSM files have them; over any file at `path`."""
        with osmium.SimpleWriter(str(path), overwrite=True) as writer:
            for node in self.nodes:
                writer.add_node(node)
            for way in self.ways:
                writer.add_way(way)


def _streets(n: int, forced: set[_Segment], rng: random.Random) -> set[_Segment]:
    """The segments of a bank's n x n blocks that are streets: `forced`, the arterial lines, a random spanning tree of
    the corners and a share (_LOOPS) of the other segments.

    OSRM's contraction hierarchies crawl on a full grid: osrm-contract took 10 s on 20 x 20 blocks a bank, 3 minutes
    on 40 x 40 and had not finished after 20 minutes on 100 x 100; thinned like this, 100 x 100 take about 10 s."""
    parent = list(range((n + 1) ** 2))

    def root(corner: int) -> int:
        while parent[corner] != corner:
            parent[corner] = parent[parent[corner]]
            corner = parent[corner]
        return corner

    def joins(segment: _Segment) -> bool:
        """Whether `segment` joins two parts not yet joined; joined after."""
        i, j, along_row = segment
        start, end = root(i * (n + 1) + j), root((i + along_row) * (n + 1) + j + (not along_row))
        parent[start] = end
        return start != end

    segments = [(i, j, along_row) for i in range(n + 1) for j in range(n + 1) for along_row in (True, False)]
    segments = [(i, j, along_row) for i, j, along_row in segments if (i if along_row else j) < n]
    kept = forced | {(i, j, along_row) for i, j, along_row in segments if _arterial(n, j if along_row else i)}
    for segment in kept:
        joins(segment)
    others = [segment for segment in segments if segment not in kept]
    rng.shuffle(others)
    return kept | {segment for segment in others if joins(segment) or rng.random() < _LOOPS}


def _arterial(n: int, line: int) -> bool:
    """Whether row or column `line` of a bank's n x n blocks is a tertiary road."""
    return line % _ARTERIAL_BLOCKS == 0 or line == n


def _write_bank(
    city: _Map,
    corners: list[list[int]],
    bank: str,
    streets: set[_Segment],
    one_way: set[_Segment],
    middles: Mapping[_Segment, int],
) -> None:
    """The ways of a bank's rows and columns (`corners[i][j]`: column i, row j): one per run of segments that are
    `streets` with the same tags, through the node in the `middles` of a segment."""
    n = len(corners) - 1
    lines = [
        ([corners[i][j] for i in range(n + 1)], [(i, j, True) for i in range(n)], f"{bank} Road {j}", j)
        for j in range(n + 1)
    ]
    lines += [(corners[i], [(i, j, False) for j in range(n)], f"Avenue {i}", i) for i in range(n + 1)]
    for line, segments, name, index in lines:
        highway = "tertiary" if _arterial(n, index) else "residential"
        tags = [
            {"highway": highway, "name": name} | ({"oneway": "yes"} if segment in one_way else {})
            if segment in streets
            else None
            for segment in segments
        ]
        for run_tags, run in itertools.groupby(range(n), key=tags.__getitem__):
            if run_tags is not None:
                run_segments = list(run)
                nodes = [line[run_segments[0]]]
                for k in run_segments:
                    nodes += [middles[segments[k]], line[k + 1]] if segments[k] in middles else [line[k + 1]]
                city.way(nodes, **run_tags)


def write_city(path: Path, *, origin: Point = (31.20, 121.45), blocks: int = 12, block_m: float = 200.0) -> City:
    """Write the city (see the module's docstring) to `path`, an .osm.pbf, with `blocks` blocks a side on each bank.

    Its size grows with blocks squared: 100 blocks make about 20,000 nodes, written in under a second and built for
    cars (osrm-extract, osrm-contract) in about 10 s.
    """
    if blocks < 4:
        raise ValueError(f"a city needs at least 4 blocks a side, not {blocks}")
    n, b = blocks, block_m
    city = _Map(origin)
    xs = [(i - n / 2) * b for i in range(n + 1)]
    north = [[city.node(x, _RIVERFRONT_M + j * b) for j in range(n + 1)] for x in xs]  # north[i][j]: column i, row j
    south = [[city.node(x, -_RIVERFRONT_M - j * b) for j in range(n + 1)] for x in xs]
    middle = n // 2

    # the compound fills the north-bank block east of column ic between rows jc and jc + 1; its gate faces row jc + 1
    ic, jc, wall_m, lane_m = 3 * n // 4, 1, 0.05 * b, 0.25 * b
    west, south_y, east, north_y = xs[ic], _RIVERFRONT_M + jc * b, xs[ic] + b, _RIVERFRONT_M + (jc + 1) * b
    gate_x = west + b / 2
    entrance = city.node(gate_x, north_y)
    gate = city.node(gate_x, north_y - wall_m, barrier="gate")
    wall = [
        city.node(west + wall_m, south_y + wall_m),
        city.node(east - wall_m, south_y + wall_m),
        city.node(east - wall_m, north_y - wall_m),
        gate,
        city.node(west + wall_m, north_y - wall_m),
    ]
    city.way([*wall, wall[0]], barrier="wall")
    lane_end = city.node(gate_x, north_y - lane_m)
    loop = [
        city.node(west + lane_m, south_y + lane_m),
        city.node(east - lane_m, south_y + lane_m),
        city.node(east - lane_m, north_y - lane_m),
        lane_end,
        city.node(west + lane_m, north_y - lane_m),
    ]
    city.way([*loop, loop[0]], highway="service", name="Compound Loop")
    city.way([lane_end, gate, entrance], highway="service", name="Compound Gate Lane")

    # the one-way stretch of south-bank row jo, from column io east, and the way back along row jo + 1
    jo, io = n // 2, n // 4
    one_way_blocks = min(n - io, math.ceil(_ONE_WAY_M / b))
    end = io + one_way_blocks
    one_way = {(i, jo, True) for i in range(io, end)}
    back = {(i, jo + 1, True) for i in range(io, end)} | {(io, jo, False), (end, jo, False)}
    je = 3 * n // 4  # the north-bank row under the elevated road
    compound = {(ic, jc, True), (ic, jc + 1, True), (ic, jc, False), (ic + 1, jc, False)}
    rng = random.Random(_SEED)
    north_streets = _streets(n, compound | {(i, je, True) for i in range(n)}, rng)
    _write_bank(city, north, "North", north_streets, set(), {(ic, jc + 1, True): entrance})
    _write_bank(city, south, "South", _streets(n, one_way | back, rng), one_way, {})
    for i, name in ((0, "West Bridge"), (middle, "Middle Bridge"), (n, "East Bridge")):
        city.way([south[i][0], north[i][0]], highway="secondary", bridge="yes", layer="1", name=name)
    city.way([city.node(xs[0] - b, 0), city.node(xs[-1] + b, 0)], waterway="river", name="Synthetic River")

    island_x = (xs[middle] + xs[n]) / 2
    island = [city.node(island_x + x, y) for x, y in _ISLAND]
    city.way([*island, island[0]], highway="residential", name="Island Loop")

    # the elevated road is above north-bank row je, with nodes mid-block, joined to the row only at its ends
    elevated_y = _RIVERFRONT_M + je * b
    deck = [city.node(x + b / 2, elevated_y + _ELEVATED_OFFSET_M) for x in xs[:-1]]
    city.way([north[0][je], *deck, north[n][je]], highway="primary", bridge="yes", layer="1", name="Elevated Road")

    city.write(path)
    facing_x = (xs[0] + xs[middle]) / 2
    one_way_y = -_RIVERFRONT_M - jo * b
    points = {
        "north_bank": city.at(facing_x, _RIVERFRONT_M),
        "south_bank": city.at(facing_x, -_RIVERFRONT_M),
        "one_way_start": city.at(xs[io] + 0.05 * b, one_way_y),
        "one_way_end": city.at(xs[io + one_way_blocks] - 0.05 * b, one_way_y),
        "compound_inside": city.at(gate_x, south_y + lane_m),
        "compound_outside": city.at(gate_x, south_y),
        "compound_gate": city.at(gate_x, north_y - wall_m),
        "island": city.at(island_x, _ISLAND[0][1]),
        "far_away": city.at(0, -_RIVERFRONT_M - n * b - _FAR_AWAY_M),
        "under_elevated": city.at(xs[middle] + b / 4, elevated_y + _DOOR_UNDER_M),
        "beside_elevated": city.at(xs[middle + 1], elevated_y),
        "office": city.at(xs[middle], _RIVERFRONT_M + (n // 4) * b),
    }
    for k, (bank, east_fraction, away_fraction) in enumerate(_GRID_POINTS):
        away_m = _RIVERFRONT_M + round(away_fraction * n) * b
        points[f"grid_{k}"] = city.at(xs[round(east_fraction * n)], bank * away_m)
    return City(path, points, city.bbox())
