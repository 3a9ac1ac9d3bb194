"""Run every notebook with nbdev_test, one test per notebook.

Cells flagged `slow` run only when HOLO_TEST_FLAGS=slow (make test-slow)."""
import os

import pytest

from conftest import notebooks, run_tool


@pytest.mark.parametrize("nb", notebooks(), ids=lambda p: p.name)
def test_notebook(nb):
    flags = os.environ.get("HOLO_TEST_FLAGS", "").split()
    res = run_tool("nbdev_test", "--path", nb, *(["--flags", *flags] if flags else []), timeout=3600)
    assert res.returncode == 0, f"nbdev_test failed on {nb.name}:\n{res.stdout[-6000:]}\n{res.stderr[-6000:]}"
