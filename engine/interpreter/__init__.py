"""The interpreter: the loop and data flow that run an ASL model (states live in engine/states)."""

from engine.interpreter.context import FatalError, Flow, Runtime, StateContext, TokenWaiter
from engine.interpreter.loop import ExecutionControl, execute, run_state, run_states

__all__ = [
    "ExecutionControl",
    "FatalError",
    "Flow",
    "Runtime",
    "StateContext",
    "TokenWaiter",
    "execute",
    "run_state",
    "run_states",
]
