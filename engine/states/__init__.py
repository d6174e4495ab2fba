"""One module per ASL state type; ``RUNNERS`` maps a ``Type`` to its coroutine (the facade hands it
to the loop on ``Runtime.runners``, so the loop never imports the runners that call it).

Each runner takes the visit's context, the state model and the raw state input, and returns
the state output and the next state's name (``None`` when the flow ends there).
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.interpreter.context import StateRunner
from engine.states.choice_state import run_choice
from engine.states.fail_state import run_fail
from engine.states.map_state import run_map
from engine.states.parallel_state import run_parallel
from engine.states.pass_state import run_pass
from engine.states.succeed_state import run_succeed
from engine.states.task_state import run_task
from engine.states.wait_state import run_wait

__all__ = ["RUNNERS", "StateRunner"]

RUNNERS: Mapping[str, StateRunner] = {
    "Pass": run_pass,
    "Task": run_task,
    "Choice": run_choice,
    "Wait": run_wait,
    "Succeed": run_succeed,
    "Fail": run_fail,
    "Parallel": run_parallel,
    "Map": run_map,
}
