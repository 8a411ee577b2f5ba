"""Content-addressed response cache: request -> response, one JSON file per request under ``results/cache/api/``.

The key is the SHA-256 of the canonical request (provider, endpoint, model id, the request body: messages and
decoding/structured-output parameters). Keys, headers and base URLs never enter it, so a rerun, a resumed run
or another cell sending the same request reads the stored answer instead of paying again. Each entry is
written atomically as soon as its answer arrives: a killed job keeps everything answered before the kill.
Only successful answers are stored, masked of secrets; failures are retried by the next run. With a state store
(remote storage, see ``breakeven.storage``) every entry is also written there, and an entry missing locally is
read from it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from breakeven.jsonio import read_json, write_json
from breakeven.storage import ObjectStore

log = logging.getLogger(__name__)
DEFAULT_CACHE = Path("results/cache/api")


def canonical(request: dict) -> str:
    """The request as canonical JSON (sorted keys, no whitespace): what the key hashes."""
    return json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_key(request: dict) -> str:
    return hashlib.sha256(canonical(request).encode()).hexdigest()


class ResponseCache:
    """Stored answers under ``root/<key[:2]>/<key>.json``."""

    def __init__(self, root: Path = DEFAULT_CACHE, store: ObjectStore | None = None) -> None:
        self.root = Path(root)
        self.store = store

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        path = self.path(key)
        try:
            if not path.exists() and not (self.store and self.store.get(path)):
                return None
            return read_json(path)
        except (OSError, ValueError):
            return None  # unreadable entry: ask again (atomic writes make this rare)

    def put(self, key: str, request: dict, response: dict) -> None:
        """Store an answer; a failed write is logged and the answer still used (only a rerun would pay again)."""
        try:
            write_json(self.path(key), {"key": key, "request": request, "response": response})
        except OSError as err:
            log.warning("could not cache answer %s (%s: %s); a rerun will ask again", key[:12], type(err).__name__, err)
        if self.store:
            try:
                self.store.put(self.path(key))
            except OSError as err:  # the local entry is kept; the next job on this machine still finds it
                log.warning("response cache: answer %s not mirrored to the state store: %s", key[:12], err)
