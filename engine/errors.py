"""Step Functions error names and the errors a running state raises."""

from __future__ import annotations

import json
from typing import Final

from engine.lambda_runtime import failure_of

__all__ = [
    "ALL",
    "BRANCH_FAILED",
    "DATA_LIMIT_EXCEEDED",
    "HEARTBEAT_TIMEOUT",
    "INTRINSIC_FAILURE",
    "NO_CHOICE_MATCHED",
    "PARAMETER_PATH_FAILURE",
    "RESULT_PATH_MATCH_FAILURE",
    "RUNTIME",
    "TASK_FAILED",
    "TIMEOUT",
    "EXCEED_TOLERATED_FAILURE_THRESHOLD",
    "StatesError",
    "error_name_of",
    "error_name_of_class",
    "items_not_an_array",
    "lambda_error_cause",
]

ALL: Final = "States.ALL"
TASK_FAILED: Final = "States.TaskFailed"
TIMEOUT: Final = "States.Timeout"
HEARTBEAT_TIMEOUT: Final = "States.HeartbeatTimeout"
RUNTIME: Final = "States.Runtime"
DATA_LIMIT_EXCEEDED: Final = "States.DataLimitExceeded"
NO_CHOICE_MATCHED: Final = "States.NoChoiceMatched"
INTRINSIC_FAILURE: Final = "States.IntrinsicFailure"
RESULT_PATH_MATCH_FAILURE: Final = "States.ResultPathMatchFailure"
PARAMETER_PATH_FAILURE: Final = "States.ParameterPathFailure"
BRANCH_FAILED: Final = "States.BranchFailed"
EXCEED_TOLERATED_FAILURE_THRESHOLD: Final = "States.ExceedToleratedFailureThreshold"


class StatesError(Exception):
    """A failure inside an execution, named as Step Functions names it.

    ``error`` is the ASL error name matched by ``ErrorEquals``; ``cause`` the text Step
    Functions reports next to it (``None`` when there is none, as for a bare Fail state).
    ``aliases`` are further names ``ErrorEquals`` may match it by without it being reported
    under them (a missed heartbeat is ``States.Timeout``, matched by ``States.HeartbeatTimeout``).
    """

    def __init__(
        self, error: str | None, cause: str | None = None, *, aliases: tuple[str, ...] = ()
    ) -> None:
        self.error = error
        self.cause = cause
        self.aliases = aliases
        super().__init__(f"{error}: {cause}" if cause else str(error))

    @property
    def error_name(self) -> str | None:
        """The ASL error name, under the attribute Python steps use to declare theirs."""
        return self.error


def error_name_of(exc: BaseException) -> str:
    """The ASL error name of a Python exception: its ``error_name`` attribute, else its class name.

    This is the name AWS Lambda's Python runtime reports as ``errorType``, so retriers and
    catchers match the same way locally and when deployed.
    """
    if isinstance(exc, StatesError) and exc.error:
        return exc.error
    return _declared_name(exc) or type(exc).__name__


def error_name_of_class(cls: type[BaseException]) -> str:
    """The ASL error name every instance of ``cls`` reports (retriers and catchers name it)."""
    return _declared_name(cls) or cls.__name__


def _declared_name(obj: object) -> str | None:
    name = getattr(obj, "error_name", None)
    return name if isinstance(name, str) and name else None


def lambda_error_cause(exc: Exception, request_id: str = "") -> str:
    """The cause AWS Lambda's Python runtime reports for an exception: its error document."""
    return failure_of(exc, request_id).cause()


def path_value_invalid(field: str, value: object, path: str, kind: str = "integer") -> StatesError:
    """A number field's ``…Path`` selecting no number of the needed kind: ``States.Runtime``.

    As AWS words it (recorded): the value in double quotes (a string as it is, anything else as
    JSON), then the path.
    """
    shown = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return StatesError(
        RUNTIME,
        f'The {field}Path field refers to value "{shown}" which is not a valid {kind}: {path}',
    )


def negative_tolerated_failure_count() -> StatesError:
    """A ``ToleratedFailureCountPath`` selecting a negative integer (AWS's wording, recorded)."""
    return StatesError(RUNTIME, "ToleratedFailureCount cannot be negative.")


def items_not_an_array(path: str | None) -> StatesError:
    """A Map's ``ItemsPath`` that selects no array: AWS's ``States.Runtime``.

    AWS names a context path with one ``$`` (``$$.Execution.Input`` is shown as
    ``$.Execution.Input``), as recorded.
    """
    shown = path or "$"
    if shown.startswith("$$"):
        shown = shown[1:]
    return StatesError(RUNTIME, f'Reference path "{shown}" must point to array.')
