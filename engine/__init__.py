"""A local AWS Step Functions: the Amazon States Language as data, and an engine that runs it."""

from engine.bindings import (
    Handler,
    Interceptor,
    LambdaContext,
    TaskBinding,
    TaskRequest,
    resolve_binding,
)
from engine.clock import Clock, ClockOption, RealClock, VirtualClock, make_clock
from engine.diagnostics import DefinitionError, Diagnostic
from engine.distributed import MapRun
from engine.durable import resume
from engine.errors import StatesError, error_name_of
from engine.execution import Execution, ExecutionStatus
from engine.expressions import QueryEvaluationError, evaluate_expression
from engine.history import HistoryEvent
from engine.inline_steps import inline_step
from engine.loader import load, substitute
from engine.local_engine import (
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    ExecutionHandle,
    ExecutionNotRedrivable,
    InvalidExecutionInput,
    InvalidToken,
    LocalEngine,
    run,
)
from engine.map_run_children import ChildExecution
from engine.mock_config import MockConfigError, MockConfigInterceptor, load_mock_config
from engine.model import StateMachine
from engine.store import (
    CorruptStoreError,
    EventsNotRecorded,
    ExecutionNotRecorded,
    ExecutionStore,
    HistoryNotKept,
    MemoryStore,
    SQLiteStore,
    StoreError,
)
from engine.test_state import TestStateError, test_state, test_state_async
from engine.validate import CODES, validate_machine

__all__ = [
    "ChildExecution",
    "resume",
    "TestStateError",
    "test_state",
    "test_state_async",
    "StoreError",
    "SQLiteStore",
    "MemoryStore",
    "ExecutionStore",
    "HistoryNotKept",
    "CorruptStoreError",
    "EventsNotRecorded",
    "ExecutionNotRecorded",
    "CODES",
    "Handler",
    "Interceptor",
    "LambdaContext",
    "MockConfigError",
    "MockConfigInterceptor",
    "TaskBinding",
    "TaskRequest",
    "load_mock_config",
    "resolve_binding",
    "Clock",
    "ClockOption",
    "DefinitionError",
    "Diagnostic",
    "Execution",
    "ExecutionAlreadyExists",
    "ExecutionDoesNotExist",
    "ExecutionHandle",
    "ExecutionNotRedrivable",
    "ExecutionStatus",
    "HistoryEvent",
    "InvalidExecutionInput",
    "InvalidToken",
    "LocalEngine",
    "MapRun",
    "RealClock",
    "StateMachine",
    "StatesError",
    "QueryEvaluationError",
    "evaluate_expression",
    "VirtualClock",
    "error_name_of",
    "inline_step",
    "load",
    "make_clock",
    "run",
    "substitute",
    "validate_machine",
]
