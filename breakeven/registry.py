"""Name -> implementation registries with lazy ``"module:attr"`` targets (optional dependencies load on use)."""

from __future__ import annotations

import difflib
import importlib
from typing import Any


class Registry:
    """A named set of lazily imported implementations."""

    def __init__(self, kind: str, entries: dict[str, str]) -> None:
        self.kind = kind
        self._entries = dict(entries)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def get(self, name: str) -> Any:
        """Import and return the implementation registered as ``name``."""
        if name not in self._entries:
            close = difflib.get_close_matches(name, self._entries, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise KeyError(f"unknown {self.kind} {name!r}; valid: {', '.join(self.names())}.{hint}")
        module, _, attr = self._entries[name].partition(":")
        return getattr(importlib.import_module(module), attr)
