"""Request options checked against the installed provider SDK, the verdict remembered per SDK version.

The check imports the SDK (openai and google-genai: ~1.5 s together), and the config is validated at the start
of every ``snakemake`` process, a no-op rerun included. Options that passed are recorded under
``$XDG_CACHE_HOME/breakeven/`` (the checkout's ``.cache/``) keyed by provider, endpoint, options and SDK
version; anything else, or the same options under another SDK release, is checked afresh.
"""

from __future__ import annotations

import json
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from breakeven.providers import CLIENTS

SDKS = {"openai": "openai", "gemini": "google-genai"}
"""The distribution each provider's client is built on."""


def passed_file() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "breakeven" / "request-options.json"


def option_problems(provider: str, api: str, options: dict) -> list[tuple[str, str]]:
    """(field, why) for each request option the provider's endpoint does not take (``[]`` when all pass)."""
    try:
        sdk = f"{SDKS[provider]}=={version(SDKS[provider])}"
    except PackageNotFoundError:
        sdk = None  # the client's import names the missing SDK
    key = json.dumps([provider, api, sdk, options], sort_keys=True)
    path = passed_file()
    passed = set(json.loads(path.read_text())) if sdk and path.exists() else set()
    if key in passed:
        return []
    problems = CLIENTS.get(provider).option_problems(options, api)
    if not problems and sdk:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(sorted(passed | {key}), indent=1))
        tmp.replace(path)  # atomic: concurrent parses never read half a file
    return problems
