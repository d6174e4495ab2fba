"""The error a saga declaration raises when it cannot be compiled as written."""

from __future__ import annotations

__all__ = ["SagaDefinitionError", "SagaWarning"]


class SagaDefinitionError(ValueError):
    """A saga that cannot be compiled: the message names the step and says what to change.

    ``step`` is the name of the step, compensation, handler or group at fault (``None`` when
    the problem is the saga as a whole).
    """

    def __init__(self, message: str, *, step: str | None = None) -> None:
        self.step = step
        super().__init__(message)


class SagaWarning(UserWarning):
    """A saga that compiles but does not do what it seems to: a compensation that never runs.

    ``step`` names the state concerned; ``code`` is a stable identifier of the finding.
    """

    def __init__(self, message: str, *, step: str | None = None, code: str = "SAGA") -> None:
        self.step = step
        self.code = code
        super().__init__(message)
