"""A JSON file's array, streamed: its elements decoded one at a time from a text stream.

The array is the whole document, or the one a JSON Pointer (RFC 6901, ``ItemsPointer``) names
inside it. Walking to it decodes only the values passed on the way (one at a time), so memory
holds one element or one skipped sibling, never the file. Problems are
``States.ItemReaderFailed``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any, Final

from engine.errors import StatesError

__all__ = ["ITEM_READER_FAILED", "json_array_items"]

ITEM_READER_FAILED: Final = "States.ItemReaderFailed"
_CHUNK: Final = 64 * 1024
_NOT_ITERABLE: Final = "Attempting to map over non-iterable node."


def _failed(cause: str) -> StatesError:
    return StatesError(ITEM_READER_FAILED, cause)


class _Cursor:
    """A position in a text stream read in chunks; what is behind it is dropped."""

    def __init__(self, text: io.TextIOBase) -> None:
        self._text = text
        self._decoder = json.JSONDecoder()
        self.buffer = ""
        self.position = 0
        self._eof = False

    def _fill(self) -> bool:
        if self._eof:
            return False
        chunk = self._text.read(_CHUNK)
        if not chunk:
            self._eof = True
            return False
        self.buffer = self.buffer[self.position :] + chunk
        self.position = 0
        return True

    def peek(self) -> str:
        """The next character that is not white space ('' at the end)."""
        while True:
            while self.position < len(self.buffer) and self.buffer[self.position] in " \t\r\n":
                self.position += 1
            if self.position < len(self.buffer):
                return self.buffer[self.position]
            if not self._fill():
                return ""

    def expect(self, char: str, cause: str) -> None:
        if self.peek() != char:
            raise _failed(cause)
        self.position += 1

    def value(self) -> Any:
        """Decode the value at the cursor (reading on until it is complete)."""
        self.peek()
        while True:
            try:
                value, end = self._decoder.raw_decode(self.buffer, self.position)
            except json.JSONDecodeError:
                if not self._fill():
                    raise _failed("The JSON file is not valid JSON.") from None
                continue
            if end >= len(self.buffer) and self._fill():
                continue  # a number may go on in the next chunk
            self.position = end
            return value

    def enter(self, token: str, pointer: str) -> None:
        """Move into the member or element ``token`` of the object or array at the cursor."""
        missing = f"The ItemsPointer {pointer!r} does not point to a value in the file."
        opening = self.peek()
        if opening not in "{[" or not opening:
            raise _failed(missing)
        self.position += 1
        closing = "}" if opening == "{" else "]"
        index = int(token) if opening == "[" and token.isdigit() else None
        if opening == "[" and index is None:
            raise _failed(missing)
        count = 0
        while self.peek() != closing:
            if count:
                self.expect(",", "The JSON file is not valid JSON.")
            if opening == "{":
                key = self.value()
                self.expect(":", "The JSON file is not valid JSON.")
                if key == token:
                    return
            elif count == index:
                return
            self.value()  # a sibling: decoded and dropped
            count += 1
        raise _failed(missing)


def _pointer_tokens(pointer: str) -> list[str]:
    if pointer and not pointer.startswith("/"):
        raise _failed(f"The ItemsPointer {pointer!r} is not a JSON Pointer (it must start with /).")
    return [raw.replace("~1", "/").replace("~0", "~") for raw in pointer.split("/")[1:]]


def json_array_items(text: io.TextIOBase, pointer: str | None = None) -> Iterator[Any]:
    """The elements of the JSON array ``text`` holds (at ``pointer``), one at a time."""
    cursor = _Cursor(text)
    for token in _pointer_tokens(pointer or ""):
        cursor.enter(token, str(pointer))
    cursor.expect("[", _NOT_ITERABLE)
    first = True
    while True:
        char = cursor.peek()
        if not char:
            raise _failed("The JSON file ended before its array was closed.")
        if char == "]":
            return
        if not first:
            if char != ",":
                raise _failed(f"Malformed JSON array at character {cursor.position}.")
            cursor.position += 1
        first = False
        yield cursor.value()
