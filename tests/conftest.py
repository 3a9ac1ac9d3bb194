"""Shared paths and helpers for the repository-level tests."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"
BIN = Path(sys.executable).parent


def notebooks() -> list[Path]:
    "Return the notebooks nbdev tests and renders: every nbs/*.ipynb not starting with '_' or '.'."
    return sorted(p for p in NBS.glob("*.ipynb") if not p.name.startswith(("_", ".")))


def run_tool(*args, timeout=1800, **kwargs) -> subprocess.CompletedProcess:
    "Run a console tool of this environment (nbdev_export, nbdev_test ...) in the repository root."
    cmd = [str(BIN / args[0]), *map(str, args[1:])]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, **kwargs)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
