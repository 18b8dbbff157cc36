"""Printing. Every line the demo writes goes through `Console`, which blanks out secrets first.

The connector masks secrets in what it logs; the demo also prints URLs, error messages and captured
PyAirbyte output, so it masks the config's secrets itself, in the three forms a key can take in a URL.
"""

from __future__ import annotations

import sys
from typing import Iterable, TextIO
from urllib.parse import quote, quote_plus

MASK = "****"


class DemoError(Exception):
    """A failure the demo explains in a sentence; `details` (captured output) go below it."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


class Redactor:
    """Replaces each secret, raw, `quote`d and `quote_plus`ed, by `****`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        forms = {form for secret in secrets if secret for form in (secret, quote(secret, safe=""), quote_plus(secret))}
        self._forms = sorted(forms, key=len, reverse=True)  # longest first: one form may contain another

    def __call__(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, MASK)
        return text


class Console:
    """Results to stdout, progress and problems to stderr, all redacted.

    The streams are bound when the console is made, so output PyAirbyte prints while `sync.quiet()`
    redirects `sys.stdout`/`sys.stderr` does not swallow the demo's own.
    """

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self._secrets: list[str] = []
        self.redact = Redactor()

    def add_secrets(self, secrets: Iterable[str]) -> None:
        self._secrets.extend(secrets)
        self.redact = Redactor(self._secrets)

    def line(self, text: str = "") -> None:
        self.out.write(self.redact(text) + "\n")
        self.out.flush()

    def lines(self, lines: Iterable[str], indent: str = "  ") -> None:
        for text in lines:
            self.line(indent + text if text else "")

    def heading(self, text: str) -> None:
        self.line()
        self.line(text)
        self.line("-" * len(text))

    def problem(self, text: str) -> None:
        self.out.flush()
        self.err.write(self.redact(text) + "\n")
        self.err.flush()
