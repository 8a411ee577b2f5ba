"""Shared fixtures; every test runs offline with caches under the checkout."""

from __future__ import annotations

import os

import pytest

from breakeven import REPO_ROOT
from breakeven.jsonio import read_yaml
from breakeven.runtime import prepare_job_environment

prepare_job_environment()
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def default_config() -> dict:
    """The embedded default run config as a dict (before validation)."""
    return read_yaml(REPO_ROOT / "config" / "config.yaml")
