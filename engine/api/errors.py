"""The errors of the Step Functions API, in AWS's JSON 1.0 shape ``{"__type", "message"}``.

SDKs raise their typed exceptions from ``__type`` (boto3's ``client.exceptions.<Name>``), so the
names and HTTP status codes are AWS's.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError"]


class ApiError(Exception):
    """An API error answered to the client: its AWS error name, message and HTTP status."""

    def __init__(self, error_type: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.status = status

    def body(self) -> dict[str, Any]:
        """The JSON body AWS answers with."""
        return {"__type": self.error_type, "message": self.message}

    @classmethod
    def validation(cls, message: str) -> ApiError:
        """``ValidationException``: the request breaks a constraint of its shape."""
        return cls("ValidationException", message)

    @classmethod
    def invalid_arn(cls, reason: str) -> ApiError:
        """``InvalidArn``: an ARN that is malformed or names the wrong kind of resource."""
        return cls("InvalidArn", f"Invalid Arn: '{reason}'")

    @classmethod
    def state_machine_does_not_exist(cls, arn: str) -> ApiError:
        """``StateMachineDoesNotExist``."""
        return cls("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'")

    @classmethod
    def execution_does_not_exist(cls, arn: str) -> ApiError:
        """``ExecutionDoesNotExist``."""
        return cls("ExecutionDoesNotExist", f"Execution Does Not Exist: '{arn}'")

    @classmethod
    def activity_does_not_exist(cls, arn: str) -> ApiError:
        """``ActivityDoesNotExist``."""
        return cls("ActivityDoesNotExist", f"Activity Does Not Exist: '{arn}'")

    @classmethod
    def invalid_token(cls, reason: str) -> ApiError:
        """``InvalidToken``: an unknown task token or paging token."""
        return cls("InvalidToken", f"Invalid Token: '{reason}'")

    @classmethod
    def invalid_name(cls, name: str) -> ApiError:
        """``InvalidName``: a resource name breaking Step Functions' naming rules."""
        return cls("InvalidName", f"Invalid Name: '{name}'")

    @classmethod
    def resource_not_found(cls) -> ApiError:
        """``ResourceNotFound``: an alias (or version) that does not exist."""
        return cls("ResourceNotFound", "Request references a resource that does not exist.")

    @classmethod
    def conflict(cls, message: str) -> ApiError:
        """``ConflictException``: the request contradicts the resource's current state."""
        return cls("ConflictException", message)
