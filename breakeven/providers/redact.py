"""Secrets out of every string the API path logs, stores or raises.

A :class:`Redactor` replaces the configured secrets (the system's key, and every secret-named variable of the
environment and of ``.env``) and anything that looks like a credential in transit (``Bearer …``, an
``x-goog-api-key`` header, a ``key=`` query parameter) with ``[redacted]``. The cell runs every reply, error
message, cache entry and log record through it, so a server that echoes the Authorization header back (a 401
body, a proxy's error page) leaks nothing.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from dotenv import dotenv_values, find_dotenv

from breakeven import REPO_ROOT

MASK = "[redacted]"
MIN_SECRET_LEN = 8
"""Shorter values (flags, ports) are not treated as secrets: masking them would mangle ordinary text."""
SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|CREDENTIALS?)$", re.IGNORECASE)
"""Variable names whose values are secrets (OPENAI_API_KEY, GEMINI_API_KEY, HF_TOKEN, ...)."""
CREDENTIAL = re.compile(
    r"(?P<lead>\bbearer\s+|\bx-goog-api-key[\"']?\s*[:=]\s*[\"']?|[?&]key=)(?P<secret>[A-Za-z0-9._~+/=-]{6,})",
    re.IGNORECASE,
)
"""A credential in transit, whatever its value: a bearer token, Gemini's key header, a key in a URL."""
CREDENTIAL_HINTS = ("bearer", "x-goog-api-key", "key=")
"""Substrings every CREDENTIAL match contains: text without them skips the (slower) regex."""


def dotenv_paths() -> list[Path]:
    """The ``.env`` files keys are read from: the nearest one above the working directory, then the checkout's."""
    found = [find_dotenv(usecwd=True), str(REPO_ROOT / ".env")]
    return [Path(path) for path in dict.fromkeys(found) if path and Path(path).exists()]


def configured_secrets() -> set[str]:
    """Values of the secret-named variables of the environment and of every ``.env`` file."""
    sources = [dict(os.environ)] + [dotenv_values(path) for path in dotenv_paths()]
    return {value for source in sources for name, value in source.items() if value and SECRET_NAME.search(name)}


class Redactor(logging.Filter):
    """Masks secrets in strings, nested data, log records and exceptions."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        values = {s.strip() for s in secrets if s and len(s.strip()) >= MIN_SECRET_LEN}
        self.secrets = sorted(values, key=len, reverse=True)  # longest first: a key never half-masked

    @classmethod
    def configured(cls, *keys: str) -> Redactor:
        """The given keys plus every configured secret."""
        return cls([*keys, *configured_secrets()])

    def text(self, value: str) -> str:
        for secret in self.secrets:
            value = value.replace(secret, MASK)
        lowered = value.lower()
        if not any(hint in lowered for hint in CREDENTIAL_HINTS):
            return value
        return CREDENTIAL.sub(lambda m: m["lead"] + MASK, value)

    def value(self, data):
        """``data`` with every string in it (dict keys and values, list items) masked."""
        if isinstance(data, str):
            return self.text(data)
        if isinstance(data, dict):
            return {self.value(k): self.value(v) for k, v in data.items()}
        if isinstance(data, (list, tuple)):
            return type(data)(self.value(item) for item in data)
        return data

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask a log record in place: its message, arguments and formatted traceback."""
        record.msg, record.args = self.text(record.getMessage()), None
        if record.exc_info:
            record.exc_text = self.text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self.text(record.stack_info)
        return True

    def leaks(self, error: BaseException) -> bool:
        """Whether the message of ``error`` or of any exception chained to it holds a secret."""
        seen: set[int] = set()
        while error is not None and id(error) not in seen:
            seen.add(id(error))
            if self.text(str(error)) != str(error):
                return True
            error = error.__cause__ or error.__context__
        return False

    @contextmanager
    def masking_errors(self) -> Iterator[None]:
        """Re-raise an exception whose chain would print a secret as a :class:`RedactedError` without the chain."""
        try:
            yield
        except Exception as err:
            if not self.leaks(err):
                raise
            raise RedactedError(self.text(f"{type(err).__name__}: {err}")) from None

    @contextmanager
    def masking_logs(self) -> Iterator[None]:
        """Mask every record that reaches the root logger's handlers while the block runs."""
        handlers = list(logging.getLogger().handlers)
        for handler in handlers:
            handler.addFilter(self)
        try:
            yield
        finally:
            for handler in handlers:
                handler.removeFilter(self)


class RedactedError(RuntimeError):
    """An error whose original message (or chained error) held a secret; this one holds the masked text."""
