"""Shared fixtures; every test runs offline with caches under the checkout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from breakeven import REPO_ROOT
from breakeven.jsonio import read_yaml
from breakeven.runtime import prepare_job_environment

prepare_job_environment()

MIRROR = Path(os.environ.get("BREAKEVEN_DATA_MIRROR", REPO_ROOT.parent / "shared" / "data"))
"""The published benchmark files (../shared/data beside the checkout unless BREAKEVEN_DATA_MIRROR says)."""
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def default_config() -> dict:
    """The embedded default run config as a dict (before validation)."""
    return read_yaml(REPO_ROOT / "config" / "config.yaml")
