"""`make lint` is part of the suite: ruff's rules and its formatting hold on the whole tree."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUFF = Path(sys.executable).with_name("ruff")


def _ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(RUFF), *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def test_ruff_finds_nothing():
    result = _ruff("check", "--no-cache", ".")

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_code_is_formatted():
    result = _ruff("format", "--check", "--no-cache", ".")

    assert result.returncode == 0, result.stdout + result.stderr
