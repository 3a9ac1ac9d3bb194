"""The exported package matches the notebooks, and the notebooks are stored clean."""
import hashlib
from pathlib import Path

from conftest import ROOT, notebooks, run_tool


def digests(paths) -> dict:
    return {str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.is_file()}


def changed(before: dict, after: dict) -> list:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def package_files():
    return list((ROOT / "holo_nb").rglob("*.py")) + [ROOT / "pyproject.toml"]


def test_notebooks_found():
    assert notebooks(), "no notebooks found in nbs/: nothing to test"


def test_export_leaves_package_unchanged():
    before = digests(package_files())
    res = run_tool("nbdev_export")
    assert res.returncode == 0, res.stderr
    diff = changed(before, digests(package_files()))
    assert not diff, f"nbdev_export changed {diff}: edit the notebooks, not holo_nb/*.py, then run `make export`"


def test_notebooks_are_clean():
    files = list((ROOT / "nbs").glob("*.ipynb"))
    before = digests(files)
    res = run_tool("nbdev_clean")
    assert res.returncode == 0, res.stderr
    diff = changed(before, digests(files))
    assert not diff, f"nbdev_clean changed {diff}: run `make export` and commit the cleaned notebooks"
