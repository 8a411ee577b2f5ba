"""Breakeven: when does a small fine-tuned open model beat a frontier API, and at what volume does it pay off?"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The checkout: config/, prompts/ and the schemas live here."""

__version__ = "0.1.0"
