"""JSON Pointer (RFC 6901) locations for diagnostics."""

from __future__ import annotations

__all__ = ["escape", "join"]


def escape(token: str | int) -> str:
    """One reference token: ``~`` becomes ``~0`` and ``/`` becomes ``~1``."""
    return str(token).replace("~", "~0").replace("/", "~1")


def join(base: str, *tokens: str | int) -> str:
    """``base`` (a pointer, ``""`` for the root) extended by ``tokens``."""
    return base + "".join("/" + escape(token) for token in tokens)
