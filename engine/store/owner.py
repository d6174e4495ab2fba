"""Who runs an open execution: a process id that survives PID reuse, and whether it lives.

An owner is ``host/pid/start``: the host name, the process id and the process's start time
(Linux ``/proc``), so a process that reuses a dead owner's pid is not mistaken for it.
"""

from __future__ import annotations

import os
import socket
from typing import Literal

__all__ = ["OwnerState", "owner_state", "process_owner"]

OwnerState = Literal["this-process", "alive", "dead", "unknown"]


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot; None when it does not exist."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            text = stat.read()
    except FileNotFoundError:
        return None
    except OSError:
        return "?"
    fields = text[text.rfind(")") + 2 :].split()
    if fields and fields[0] in {"Z", "X"}:  # a zombie has finished already
        return None
    return fields[19] if len(fields) > 19 else "?"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_cached: tuple[int, str] | None = None


def process_owner() -> str:
    """This process, as an owner string (recomputed after a fork)."""
    global _cached
    pid = os.getpid()
    if _cached is None or _cached[0] != pid:
        _cached = (pid, f"{socket.gethostname()}/{pid}/{_start_time(pid) or '?'}")
    return _cached[1]


def owner_state(owner: str) -> OwnerState:
    """Whether ``owner`` is this process, another live process, a dead one, or unknowable."""
    if owner == process_owner():
        return "this-process"
    host, _, rest = owner.partition("/")
    pid_text, _, started = rest.partition("/")
    if host != socket.gethostname() or not pid_text.isdigit():
        return "unknown"
    pid = int(pid_text)
    if os.path.isdir("/proc"):
        now = _start_time(pid)
        if now is None:
            return "dead"
        if started not in {"", "?"} and now not in {"", "?"} and now != started:
            return "dead"  # the pid was reused by another process
        return "alive"
    return "alive" if _pid_alive(pid) else "dead"
