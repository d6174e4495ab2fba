"""Sagas in Python: steps, compensations and policies compiled to Step Functions state machines."""

from saga.errors import SagaDefinitionError
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
from saga.policies import Retry, error_name
from saga.running import run_saga, run_saga_async, saga_engine
from saga.saga import ORIGINAL_ERROR, ParallelGroup, Saga
from saga.steps import LambdaInvoke, Step, StepFunction
from saga.templates import JsonPath

__all__ = [
    "DYNAMODB_THROTTLING_ERRORS",
    "ORIGINAL_ERROR",
    "Integration",
    "JsonPath",
    "LambdaInvoke",
    "ParallelGroup",
    "Retry",
    "Saga",
    "SagaDefinitionError",
    "Step",
    "StepFunction",
    "aws_sdk",
    "dynamodb",
    "error_name",
    "events",
    "run_saga",
    "run_saga_async",
    "saga_engine",
    "sns",
    "sqs",
    "states",
]
