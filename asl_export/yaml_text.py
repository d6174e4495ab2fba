"""A small, deterministic YAML writer for templates: block style, keys in insertion order.

Templates are plain JSON data (intrinsics in their long ``Fn::`` form), so this needs no YAML
library at run time; strings that are not obviously plain are double-quoted with escapes.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["dump_yaml"]

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.:/-]*")
_RESERVED = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n"})


def _printable(code: int) -> bool:
    return (
        code in (0x09, 0x0A, 0x85)
        or 0x20 <= code <= 0x7E
        or 0xA0 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    ) and code != 0xFEFF


def _quote(text: str) -> str:
    out = ['"']
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif code in (0x85, 0x2028, 0x2029) or not _printable(code):
            if 0xD800 <= code <= 0xDFFF:
                raise ValueError(f"cannot write a lone surrogate (U+{code:04X}) as YAML")
            out.append(f"\\x{code:02X}" if code <= 0xFF else f"\\u{code:04X}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _string(text: str) -> str:
    plain = (
        _PLAIN.fullmatch(text) is not None
        and not text.endswith(":")
        and text.lower() not in _RESERVED
    )
    return text if plain else _quote(text)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = json.dumps(value, allow_nan=False)
        # YAML 1.1 readers take an exponent without a fraction ("1e+16") for a string.
        return text.replace("e", ".0e", 1) if "e" in text and "." not in text else text
    if isinstance(value, str):
        return _string(value)
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def _block(value: Any) -> list[str]:
    """Lines of a mapping or sequence at indent 0 (non-empty containers only)."""
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            head = f"{_string(str(key))}:"
            if _is_block(item):
                lines.append(head)
                lines.extend("  " + line for line in _block(item))
            else:
                lines.append(f"{head} {_inline(item)}")
        return lines
    for item in value:
        if _is_block(item):
            inner = _block(item)
            lines.append("- " + inner[0])
            lines.extend("  " + line for line in inner[1:])
        else:
            lines.append(f"- {_inline(item)}")
    return lines


def _is_block(value: Any) -> bool:
    return isinstance(value, dict | list) and len(value) > 0


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value)


def dump_yaml(document: Any) -> str:
    """``document`` (JSON data) as YAML text ending in a newline."""
    if not _is_block(document):
        return _inline(document) + "\n"
    return "\n".join(_block(document)) + "\n"
