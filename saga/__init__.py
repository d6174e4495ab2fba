"""Sagas in Python: steps, compensations and policies compiled to Step Functions state machines."""

from engine.inline_steps import inline_step
from saga.conditions import Condition, equals, greater_than, is_present, less_than
from saga.declaration import ORIGINAL_ERROR, SagaInputError
from saga.errors import SagaDefinitionError, SagaWarning
from saga.fault_states import UnknownFaultState
from saga.for_each import ForEach
from saga.integrations import (
    DYNAMODB_THROTTLING_ERRORS,
    Integration,
    aws_sdk,
    dynamodb,
    events,
    sns,
    sqs,
    states,
)
from saga.outcome import Failure, SagaExecution, UnwindStep, explain
from saga.parallel import ParallelGroup
from saga.policies import Retry, error_name
from saga.running import run_saga, run_saga_async, saga_engine
from saga.saga import Saga
from saga.steps import LambdaInvoke, Step, StepFunction
from saga.templates import JsonPath

__all__ = [
    "DYNAMODB_THROTTLING_ERRORS",
    "Condition",
    "Failure",
    "ForEach",
    "ORIGINAL_ERROR",
    "Integration",
    "JsonPath",
    "LambdaInvoke",
    "ParallelGroup",
    "Retry",
    "Saga",
    "SagaDefinitionError",
    "SagaExecution",
    "SagaInputError",
    "SagaWarning",
    "UnknownFaultState",
    "Step",
    "StepFunction",
    "UnwindStep",
    "aws_sdk",
    "dynamodb",
    "equals",
    "error_name",
    "events",
    "explain",
    "greater_than",
    "inline_step",
    "is_present",
    "less_than",
    "run_saga",
    "run_saga_async",
    "saga_engine",
    "sns",
    "sqs",
    "states",
]
