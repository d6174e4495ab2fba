"""Paging of list operations: ``maxResults`` and opaque ``nextToken`` values."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Final, TypeVar

from engine.api.errors import ApiError

__all__ = ["page"]

T = TypeVar("T")

DEFAULT_PAGE: Final = 100


def _encode(scope: str, offset: int) -> str:
    raw = json.dumps({"scope": scope, "offset": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode(token: str, scope: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ApiError.invalid_token("Invalid token") from None
    if not isinstance(data, dict) or data.get("scope") != scope:
        raise ApiError.invalid_token("Invalid token")
    offset = data.get("offset")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise ApiError.invalid_token("Invalid token")
    return offset


def page(
    items: Sequence[T], max_results: int | None, token: str | None, scope: str
) -> tuple[list[T], str | None]:
    """One page of ``items`` and the token of the next (None on the last page).

    ``max_results`` 0 or absent means the default page size, as AWS does; a token only works
    for the listing (``scope``) it came from.
    """
    size = max_results or DEFAULT_PAGE
    start = _decode(token, scope) if token else 0
    end = start + size
    chunk = list(items[start:end])
    return chunk, (_encode(scope, end) if end < len(items) else None)
