"""Step Functions resource names: what a state machine or execution name may hold.

One definition for every place that checks a name (the engine, the HTTP API, the exporter):
1-80 characters, none of them whitespace, brackets, wildcards, ``" # % \\ ^ | ~ ` $ & , ; : /``
or control characters.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["CONTROL_CHARACTERS", "MAX_NAME_LENGTH", "NAME_FORBIDDEN", "is_valid_name"]

MAX_NAME_LENGTH: Final = 80
"""The most characters a state machine, execution or state name may have."""

CONTROL_CHARACTERS: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")
"""The control characters no name may hold (state names included)."""

NAME_FORBIDDEN: Final = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")
"""Characters an execution or state machine name may not hold."""


def is_valid_name(name: str) -> bool:
    """Whether ``name`` is 1-80 characters, none of them in :data:`NAME_FORBIDDEN`."""
    return 1 <= len(name) <= MAX_NAME_LENGTH and NAME_FORBIDDEN.search(name) is None
