"""An execution's history as a readable table: id, elapsed virtual time, event, state, detail.

Used in assertion messages so a failing test shows what the execution did, not a dict dump.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from engine.execution import Execution
from engine.history import HistoryEvent

__all__ = ["event_states", "event_visits", "format_elapsed", "history_table", "summarize_details"]

_DETAIL_WIDTH: Final = 64
_HEADERS: Final = ("id", "elapsed", "event", "state", "detail")
_CONTAINERS: Final = ("Parallel", "Map")


def format_elapsed(seconds: float) -> str:
    """``+H:MM:SS.mmm`` (milliseconds, as Step Functions' timestamps)."""
    millis = round(max(0.0, seconds) * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"+{hours}:{minutes:02d}:{secs:02d}.{millis:03d}"


def event_visits(events: Sequence[HistoryEvent]) -> dict[int, int]:
    """The state visit each event belongs to: event id → id of the visit's ``…StateEntered``.

    Entered events start a visit; the events after follow their ``previousEventId`` chain back
    to it (so interleaved Parallel branches stay apart), and a Parallel or Map state's own
    events (``ParallelStateFailed`` …) go to the innermost such state still open. Execution
    events belong to no state.
    """
    root_of: dict[int, int] = {}
    closed: set[int] = set()
    open_kind: dict[str, list[int]] = {kind: [] for kind in _CONTAINERS}
    names: dict[int, str | None] = {}
    for event in events:
        kind_name = event.type
        if kind_name.startswith("Execution"):
            continue
        if kind_name.endswith("StateEntered"):
            root_of[event.id] = event.id
            names[event.id] = event.state_name
            entered_kind = kind_name.removesuffix("StateEntered")
            if entered_kind in open_kind:
                open_kind[entered_kind].append(event.id)
            continue
        kind = next((k for k in _CONTAINERS if kind_name.startswith(f"{k}State")), None)
        root: int | None = None
        if kind is not None and open_kind[kind]:
            candidates = open_kind[kind]
            if event.state_name is not None:
                named = [i for i in candidates if names.get(i) == event.state_name]
                candidates = named or candidates
            root = candidates[-1]
        elif event.previous_event_id in root_of and event.previous_event_id not in closed:
            root = root_of[event.previous_event_id]
        if root is None:
            continue
        root_of[event.id] = root
        if kind_name.endswith(("StateExited", "StateAborted")):
            closed.add(event.id)
            if kind is not None and root in open_kind[kind]:
                open_kind[kind].remove(root)
    return root_of


def event_states(events: Sequence[HistoryEvent]) -> dict[int, str]:
    """The name of the state each event belongs to, by event id (see :func:`event_visits`)."""
    by_id = {event.id: event for event in events}
    out: dict[int, str] = {}
    for event_id, root in event_visits(events).items():
        name = by_id[root].state_name
        if name is not None:
            out[event_id] = name
    return out


def _short_json(value: Any) -> str:
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=False)
    except (TypeError, ValueError):
        return repr(value)


def _cause_summary(cause: Any) -> str:
    """A Lambda-style JSON cause shortened to its ``errorMessage``; other causes as they are."""
    if not isinstance(cause, str):
        return ""
    if cause.startswith("{"):
        try:
            parsed = json.loads(cause)
        except ValueError:
            return cause
        if isinstance(parsed, dict) and "errorMessage" in parsed:
            return str(parsed["errorMessage"])
    return cause


def _clip(text: str, width: int = _DETAIL_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def summarize_details(event: HistoryEvent) -> str:
    """One line about an event's details: error and cause, resource, input or output."""
    details = event.details or {}
    if "error" in details or "cause" in details:
        error = details.get("error") or ""
        cause = _cause_summary(details.get("cause"))
        return _clip(f"{error}: {cause}" if cause else str(error))
    parts: list[str] = []
    if "resource" in details and event.type.endswith("Scheduled"):
        parts.append(str(details["resource"]))
        if "timeoutInSeconds" in details:
            parts.append(f"timeout {details['timeoutInSeconds']}s")
        if "heartbeatInSeconds" in details:
            parts.append(f"heartbeat {details['heartbeatInSeconds']}s")
    for key in ("input", "parameters", "output"):
        if key in details and not parts:
            parts.append(f"{key} {_short_json(details[key])}")
    return _clip(", ".join(parts))


def history_table(execution: Execution, *, indent: str = "  ") -> str:
    """The execution's history as aligned text columns, ending with its status line."""
    events = execution.history
    owners = event_states(events)
    start = events[0].posix if events else execution.start_posix
    rows = [
        (
            str(event.id),
            format_elapsed(event.posix - start),
            event.type,
            owners.get(event.id, ""),
            summarize_details(event),
        )
        for event in events
    ]
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(_HEADERS)]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].rjust(widths[0])
        rest = [cell.ljust(widths[i + 1]) for i, cell in enumerate(cells[1:])]
        return (indent + "  ".join([first, *rest])).rstrip()

    title = f"{indent}execution {execution.name!r}: {execution.status}"
    if execution.error is not None:
        title += f" ({execution.error}: {_clip(_cause_summary(execution.cause), 100)})"
    out = [title, line(_HEADERS), line(["-" * w for w in widths])]
    out += [line(row) for row in rows]
    return "\n".join(out)
