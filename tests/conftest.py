"""Shared fixtures: `small_case` is a fresh copy of the hand-written valid case (casefactory)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from casefactory import write_case  # tests/ is on sys.path: pytest inserts conftest's folder
from pollwatch.case import CasePaths


@pytest.fixture(scope="session")
def _small_case_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("template") / "case"
    write_case(root)
    return root


@pytest.fixture
def small_case(_small_case_template: Path, tmp_path: Path) -> CasePaths:
    """A fresh, writable copy of the small valid case (see tests/casefactory.py)."""
    root = tmp_path / "case"
    shutil.copytree(_small_case_template, root)
    return CasePaths.of(root)
