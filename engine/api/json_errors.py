"""JSON syntax errors described as AWS's service describes them (its parser's wording).

AWS reads execution inputs and definitions with Jackson, whose messages callers see in
``InvalidExecutionInput`` and ``ValidateStateMachineDefinition`` answers: a bare word is an
``Unrecognized token 'word': was expecting (...)``, a stray character an
``Unexpected character ('c' (code N)): ...``, each at a 1-based line and column. Errors of
other kinds keep Python's wording with their line and column.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

__all__ = ["JsonSyntaxError", "describe_json_error"]

_VALUES = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
_SOURCE_LIMIT = 500
"""How much of the text the parser quotes in its location before truncating it."""


@dataclass(frozen=True)
class JsonSyntaxError:
    """Where and what: ``message`` as AWS words it, and the ``[Source: …]`` location."""

    message: str
    line: int
    column: int
    source: str

    @property
    def location(self) -> str:
        """``[Source: (String)"…"; line: L, column: C]``, as the parser writes it."""
        return f"[Source: {self.source}; line: {self.line}, column: {self.column}]"


def _char(character: str) -> str:
    code = ord(character)
    if code < 32:
        return f"(CTRL-CHAR, code {code})"
    if code > 255:
        return f"'{character}' (code {code} / 0x{code:x})"
    return f"'{character}' (code {code})"


def _is_word(character: str) -> bool:
    return character.isalnum() or character in "_$"


def _line_column(text: str, position: int) -> tuple[int, int]:
    line = text.count("\n", 0, position) + 1
    return line, position - (text.rfind("\n", 0, position) + 1) + 1


def _source(text: str) -> str:
    if len(text) <= _SOURCE_LIMIT:
        return f'(String)"{text}"'
    return f'(String)"{text[:_SOURCE_LIMIT]}"[truncated {len(text) - _SOURCE_LIMIT} chars]'


def describe_json_error(text: str, error: json.JSONDecodeError) -> JsonSyntaxError:
    """The syntax error ``json.loads(text)`` raised, worded as AWS's parser words it."""
    position = error.pos
    character = text[position] if position < len(text) else ""
    if error.msg == "Expecting value" and character and _is_word(character):
        end = position
        while end < len(text) and _is_word(text[end]):
            end += 1
        message = f"Unrecognized token '{text[position:end]}': was expecting {_VALUES}"
        line, column = _line_column(text, end)
    elif error.msg.startswith("Expecting property name") and character:
        message = (
            f"Unexpected character ({_char(character)}): was expecting double-quote to start "
            "field name"
        )
        line, column = _line_column(text, position + 1)
    elif error.msg == "Expecting value" and character:
        message = f"Unexpected character ({_char(character)}): expected a valid value {_VALUES}"
        line, column = _line_column(text, position + 1)
    else:
        message = error.msg
        line, column = error.lineno, error.colno
    return JsonSyntaxError(message, line, column, _source(text))
