"""Fixtures for the report tests: one quick demo report shared by the tests that read it."""

from __future__ import annotations

import contextlib
import io

import pytest

from aekit.cli.main import main


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """``aekit demo --quick`` run once: its HTML report's path and what it printed."""
    path = tmp_path_factory.mktemp("demo") / "demo-report.html"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert main(["demo", "--quick", "--quiet", "--out", str(path)]) == 0
    return path, stdout.getvalue()


@pytest.fixture(scope="session")
def demo_report_path(demo_run):
    return demo_run[0]
