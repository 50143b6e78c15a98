"""Where a branch's road data lives: ``<roads_dir>/<branch id>/<profile>/roads.osrm*``, with ``build.json`` saying
what it was built from."""

from pathlib import Path
from uuid import UUID

PROFILES = ("car", "bicycle", "foot")
DATA_NAME = "roads.osrm"
MANIFEST_NAME = "build.json"


def profile_dir(roads_dir: Path, branch_id: UUID, profile: str) -> Path:
    """The folder of a branch's road data for one profile."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    return roads_dir / str(branch_id) / profile


def road_data(roads_dir: Path, branch_id: UUID, profile: str) -> Path:
    """The ``.osrm`` base path OSRM's library loads (it need not exist yet)."""
    return profile_dir(roads_dir, branch_id, profile) / DATA_NAME
