"""`fieldvisit roads build`: an OpenStreetMap extract built into a branch's road data with OSRM's own tools
(osrm-extract with the profile, its trips starting at street level (street_level.lua), then osrm-contract:
contraction hierarchies, the fastest tables), checked to cover
the branch's office and addresses, then put in place at once (a build that fails or is refused leaves the data as
it was). The same extract and profile again changes nothing."""

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from uuid import UUID

import numpy as np
import osrm

from api.roads.store import DATA_NAME, MANIFEST_NAME, profile_dir
from routing.matrix import MatrixUnavailable, Point, snapped_m

OSRM_PACKAGE = Path(osrm.__file__).parent
EXTRACT_SUFFIXES = (".osm.pbf", ".osm", ".osm.bz2")
STREET_LEVEL = Path(__file__).with_name("street_level.lua")  # the profiles, with trips starting at street level


class RoadsRefused(Exception):
    """The extract cannot become the branch's road data; nothing was changed."""


@dataclass(frozen=True, slots=True)
class Coverage:
    """How far the branch's places are from the extract's roads."""

    places: int
    outside: int  # farther than the limit from any road
    farthest_m: float


@dataclass(frozen=True, slots=True)
class RoadsBuilt:
    folder: Path
    built: bool  # False: already built from this extract and profile
    seconds: float
    size_bytes: int
    coverage: Coverage | None


def build_roads(
    extract: Path,
    roads_dir: Path,
    branch_id: UUID,
    profile: str,
    places: Sequence[Point],
    *,
    max_snap_m: float,
    max_outside_share: float,
    progress: Callable[[str], None],
) -> RoadsBuilt:
    """Build `extract` into the branch's road data for `profile`. `places`: the office first, then the addresses;
    refused (`RoadsRefused`) if the office, or more than `max_outside_share` of the addresses, are farther than
    `max_snap_m` from the extract's roads."""
    if not extract.name.endswith(EXTRACT_SUFFIXES) or not extract.is_file():
        raise RoadsRefused(f"{extract} is not an OpenStreetMap extract (.osm.pbf, .osm or .osm.bz2 file)")
    started = time.monotonic()
    folder = profile_dir(roads_dir, branch_id, profile)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _locked(folder.parent / f".{profile}.lock"):
        recipe = {"source": _fingerprint(extract), "profile": profile, "tools": _tools_fingerprint()}
        built = _manifest(folder)
        if {key: built.get(key) for key in recipe} == recipe:
            progress(f"already built from this extract ({extract.name}, {profile} profile): nothing to do")
            return RoadsBuilt(folder, False, time.monotonic() - started, _size(folder), None)
        staging = folder.parent / f".{profile}-{time.time_ns()}"
        staging.mkdir()
        try:
            coverage = _build(extract, staging, profile, places, max_snap_m, max_outside_share, progress)
            seconds = time.monotonic() - started
            manifest = recipe | {
                "osrm": version("osrm-bindings"),
                "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "seconds": round(seconds, 1),
            }
            (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _replace(folder, staging)
    return RoadsBuilt(folder, True, seconds, _size(folder), coverage)


def _build(
    extract: Path,
    staging: Path,
    profile: str,
    places: Sequence[Point],
    max_snap_m: float,
    max_outside_share: float,
    progress: Callable[[str], None],
) -> Coverage | None:
    linked = staging / (DATA_NAME.removesuffix(".osrm") + _suffix(extract))
    linked.symlink_to(extract.resolve())
    log = staging / "build.log"
    profile_file = staging / "profile.lua"
    profile_file.write_text(
        STREET_LEVEL.read_text()
        .replace("@PROFILES@", str(OSRM_PACKAGE / "share" / "profiles"))
        .replace("@PROFILE@", profile)
    )
    threads = str(os.cpu_count() or 1)
    _step(
        "extracting the roads (osrm-extract)",
        ["osrm-extract", "-p", str(profile_file), "-t", threads, str(linked)],
        log,
        progress,
    )
    _step("contracting (osrm-contract)", ["osrm-contract", "-t", threads, str(staging / DATA_NAME)], log, progress)
    linked.unlink()
    if not places:
        return None
    progress(f"checking that the roads reach the office and {len(places) - 1} addresses")
    try:
        snapped = snapped_m(staging / DATA_NAME, places)
    except MatrixUnavailable as error:
        raise RoadsRefused(f"the built data cannot be read: {error}") from error
    coverage = Coverage(len(places), int((snapped > max_snap_m).sum()), float(snapped.max()))
    if snapped[0] > max_snap_m:
        raise RoadsRefused(
            f"the extract does not cover the branch: its office is {snapped[0]:,.0f} m from the nearest road"
            f" (at most {max_snap_m:,.0f} m)"
        )
    addresses = snapped[1:]
    outside = int((addresses > max_snap_m).sum())
    if len(addresses) and outside / len(addresses) > max_outside_share:
        raise RoadsRefused(
            f"the extract does not cover the branch: {outside} of {len(addresses)} located addresses"
            f" ({outside / len(addresses):.1%}) are farther than {max_snap_m:,.0f} m from its roads, the farthest"
            f" {float(np.max(addresses)) / 1000:,.1f} km (at most {max_outside_share:.1%} may be)"
        )
    return coverage


def _step(title: str, command: list[str], log: Path, progress: Callable[[str], None]) -> None:
    """Run one of OSRM's tools (from the osrm-bindings package), its output into `log`."""
    progress(f"{title}…")
    started = time.monotonic()
    binary = OSRM_PACKAGE / "bin" / command[0]
    with log.open("a") as output:
        finished = subprocess.run([str(binary), *command[1:]], stdout=output, stderr=subprocess.STDOUT, check=False)
    if finished.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-3:]
        raise RoadsRefused(f"{command[0]} failed (exit {finished.returncode}): " + " / ".join(tail))
    progress(f"{title}: {time.monotonic() - started:.1f} s")


def _suffix(extract: Path) -> str:
    return next(suffix for suffix in EXTRACT_SUFFIXES if extract.name.endswith(suffix))


def _tools_fingerprint() -> str:
    """What else a build depends on: OSRM's version and the profiles' street-level change."""
    return "sha256:" + hashlib.sha256(f"{version('osrm-bindings')}\n{STREET_LEVEL.read_text()}".encode()).hexdigest()


def _fingerprint(extract: Path) -> str:
    digest = hashlib.sha256()
    with extract.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def _manifest(folder: Path) -> dict[str, object]:
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _replace(folder: Path, built: Path) -> None:
    """Point the profile's folder (a symbolic link) at the new build in one atomic rename, then drop the old build:
    a plan being made reads the old data or the new, never a mix or nothing."""
    old = folder.resolve() if folder.is_symlink() else None
    swap = folder.with_name(f".{folder.name}.swap")
    swap.unlink(missing_ok=True)
    swap.symlink_to(built.name)
    os.replace(swap, folder)
    if old is not None and old != built.resolve():
        shutil.rmtree(old, ignore_errors=True)


def _size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.iterdir() if path.is_file())


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One build of a branch's profile at a time."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
