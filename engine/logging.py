"""Structured logs of history events through structlog; quiet unless switched on.

``configure(enabled=True, json=...)`` turns them on; each history event is then logged once,
bound to the execution name and the state it belongs to.
"""

from __future__ import annotations

import sys
from typing import Any

from engine.history import HistoryEvent

__all__ = ["configure", "enabled", "log_event", "log_warning"]

_state: dict[str, Any] = {"enabled": False, "logger": None}


def configure(*, enabled: bool = True, json: bool = False) -> None:
    """Switch history-event logging on or off; ``json`` picks JSON lines over console output."""
    _state["enabled"] = enabled
    if not enabled:
        _state["logger"] = None
        return
    import structlog  # only once logs are asked for: it costs every start-up otherwise

    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    _state["logger"] = structlog.wrap_logger(
        structlog.PrintLogger(sys.stderr),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
    )


def enabled() -> bool:
    """Whether history events are being logged."""
    return bool(_state["enabled"])


def log_event(execution_name: str, event: HistoryEvent) -> None:
    """Log one history event (no-op when logging is off)."""
    logger = _state["logger"]
    if logger is None:
        return
    logger.info(
        event.type,
        execution=execution_name,
        state=event.state_name,
        event_id=event.id,
        previous_event_id=event.previous_event_id,
        details=event.rendered_details(),
    )


def log_warning(event: str, **fields: Any) -> None:
    """Log a warning through structlog: on the engine's logger when logging is switched on,
    else through the application's own structlog configuration if it has one (never on stdout
    of a program that did not ask for logs)."""
    logger = _state["logger"]
    if logger is not None:
        logger.warning(event, **fields)
        return
    structlog = sys.modules.get("structlog")  # an application that configured it imported it
    if structlog is not None and structlog.is_configured():
        structlog.get_logger("saga").warning(event, **fields)
