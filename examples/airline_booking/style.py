"""ANSI colours for terminal output; plain text off a terminal or when NO_COLOR is set."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TextIO

__all__ = ["Style"]

_CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}


@dataclass(frozen=True)
class Style:
    """Wraps text in ANSI escapes when ``enabled``; otherwise returns it unchanged."""

    enabled: bool = True

    @classmethod
    def for_stream(cls, stream: TextIO) -> Style:
        """Colour only on a terminal, and never when ``NO_COLOR`` is set (https://no-color.org)."""
        if os.environ.get("NO_COLOR"):
            return cls(enabled=False)
        isatty = getattr(stream, "isatty", None)
        return cls(enabled=bool(isatty and isatty()))

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled and text else text

    def bold(self, text: str) -> str:
        """Bold text."""
        return self._wrap(_CODES["bold"], text)

    def dim(self, text: str) -> str:
        """Faint text, for timestamps and asides."""
        return self._wrap(_CODES["dim"], text)

    def red(self, text: str) -> str:
        """Failures."""
        return self._wrap(_CODES["red"], text)

    def green(self, text: str) -> str:
        """Success."""
        return self._wrap(_CODES["green"], text)

    def yellow(self, text: str) -> str:
        """Compensations and catches."""
        return self._wrap(_CODES["yellow"], text)

    def blue(self, text: str) -> str:
        """Headings."""
        return self._wrap(_CODES["blue"], text)

    def magenta(self, text: str) -> str:
        """Failure handling (notify, dead-letter queue)."""
        return self._wrap(_CODES["magenta"], text)

    def cyan(self, text: str) -> str:
        """Retries and waits."""
        return self._wrap(_CODES["cyan"], text)
