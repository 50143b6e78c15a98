"""The evidence library stands alone: no web, database or application imports, and its modules only import what
they use (audio does not pull in Pillow's photos, nor photos the audio parsers)."""

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize(
    ("module", "other"), [("evidence.audio", "evidence.photos"), ("evidence.photos", "evidence.audio")]
)
def test_the_module_stands_alone(module: str, other: str) -> None:
    code = (
        f"import sys, {module}; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'sqlalchemy', 'api', 'starlette') "
        f"or m == '{other}'))"
    )
    root = Path(__file__).resolve().parents[2]

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)

    assert result.stdout.strip() == "[]"
