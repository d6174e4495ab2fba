"""Direct service integrations a step can run instead of a Lambda function.

Each factory returns an :class:`Integration`: the optimised ``arn:aws:states:::service:action``
resource and its ``Parameters``. Arguments are the service API's fields in snake_case; any
value may be a :class:`~saga.templates.JsonPath` read from the state input when the step runs::

    dynamodb.update_item(
        table_name=JsonPath("$.flightTable"),
        key={"id": {"S": JsonPath("$.outboundFlightId")}},
        update_expression="SET seatCapacity = seatCapacity - :dec",
        expression_attribute_values={":dec": {"N": "1"}},
    )

Errors of these integrations are named with the service prefix Step Functions adds
(``DynamoDB.ConditionalCheckFailedException``, ``SQS.QueueDoesNotExistException`` …); a
retrier naming an unprefixed error on such a step is rejected, as it would never match.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from saga.templates import Template

__all__ = [
    "DYNAMODB_THROTTLING_ERRORS",
    "Integration",
    "aws_sdk",
    "dynamodb",
    "events",
    "sns",
    "sqs",
    "states",
]

DYNAMODB_THROTTLING_ERRORS: Final = (
    "DynamoDB.ProvisionedThroughputExceededException",
    "DynamoDB.RequestLimitExceeded",
    "DynamoDB.ServiceUnavailable",
    "DynamoDB.ThrottlingException",
)
"""The DynamoDB errors worth retrying with backoff, as Step Functions names them."""

_WAIT = ".waitForTaskToken"


@dataclass(frozen=True)
class Integration:
    """A Task resource run by a Step Functions service integration, with its ``Parameters``.

    ``error_prefix`` is the prefix Step Functions puts on the service's error names
    (``"DynamoDB"``); ``None`` when unknown (e.g. a generic ``aws-sdk`` integration).
    """

    resource: str
    parameters: Mapping[str, Template] = field(default_factory=dict)
    error_prefix: str | None = None

    @property
    def service(self) -> str:
        """The integration's service and action, e.g. ``dynamodb:updateItem``."""
        return self.resource.removeprefix("arn:aws:states:::")


def _fields(pairs: Sequence[tuple[str, Any]]) -> dict[str, Template]:
    return {name: value for name, value in pairs if value is not None}


def _resource(service: str, action: str, wait_for_task_token: bool) -> str:
    return f"arn:aws:states:::{service}:{action}{_WAIT if wait_for_task_token else ''}"


def _integration(
    service: str,
    action: str,
    error_prefix: str,
    pairs: Sequence[tuple[str, Any]],
    wait_for_task_token: bool = False,
) -> Integration:
    """The optimised ``service:action`` integration with the given (unset-dropping) Parameters."""
    return Integration(
        _resource(service, action, wait_for_task_token), _fields(pairs), error_prefix
    )


def _dynamodb(action: str, pairs: Sequence[tuple[str, Any]]) -> Integration:
    return _integration("dynamodb", action, "DynamoDB", pairs)


def _conditional_write(
    condition_expression: Template,
    expression_attribute_names: Template,
    expression_attribute_values: Template,
    return_values: Template,
) -> list[tuple[str, Any]]:
    """The optional condition fields ``PutItem`` and ``DeleteItem`` share, in their order."""
    return [
        ("ConditionExpression", condition_expression),
        ("ExpressionAttributeNames", expression_attribute_names),
        ("ExpressionAttributeValues", expression_attribute_values),
        ("ReturnValues", return_values),
    ]


class DynamoDBIntegrations:
    """DynamoDB item operations (``arn:aws:states:::dynamodb:*``)."""

    def get_item(
        self,
        *,
        table_name: Template,
        key: Template,
        consistent_read: Template = None,
        projection_expression: Template = None,
        expression_attribute_names: Template = None,
    ) -> Integration:
        """``GetItem``: the result is DynamoDB's response (``{"Item": {...}}`` when found)."""
        return _dynamodb(
            "getItem",
            [
                ("TableName", table_name),
                ("Key", key),
                ("ConsistentRead", consistent_read),
                ("ProjectionExpression", projection_expression),
                ("ExpressionAttributeNames", expression_attribute_names),
            ],
        )

    def put_item(
        self,
        *,
        table_name: Template,
        item: Template,
        condition_expression: Template = None,
        expression_attribute_names: Template = None,
        expression_attribute_values: Template = None,
        return_values: Template = None,
    ) -> Integration:
        """``PutItem``."""
        condition = _conditional_write(
            condition_expression,
            expression_attribute_names,
            expression_attribute_values,
            return_values,
        )
        return _dynamodb("putItem", [("TableName", table_name), ("Item", item), *condition])

    def update_item(
        self,
        *,
        table_name: Template,
        key: Template,
        update_expression: Template,
        condition_expression: Template = None,
        expression_attribute_names: Template = None,
        expression_attribute_values: Template = None,
        return_values: Template = None,
    ) -> Integration:
        """``UpdateItem``; a failed condition is ``DynamoDB.ConditionalCheckFailedException``."""
        return _dynamodb(
            "updateItem",
            [
                ("TableName", table_name),
                ("Key", key),
                ("UpdateExpression", update_expression),
                ("ExpressionAttributeNames", expression_attribute_names),
                ("ExpressionAttributeValues", expression_attribute_values),
                ("ConditionExpression", condition_expression),
                ("ReturnValues", return_values),
            ],
        )

    def delete_item(
        self,
        *,
        table_name: Template,
        key: Template,
        condition_expression: Template = None,
        expression_attribute_names: Template = None,
        expression_attribute_values: Template = None,
        return_values: Template = None,
    ) -> Integration:
        """``DeleteItem``."""
        condition = _conditional_write(
            condition_expression,
            expression_attribute_names,
            expression_attribute_values,
            return_values,
        )
        return _dynamodb("deleteItem", [("TableName", table_name), ("Key", key), *condition])


class SQSIntegrations:
    """Amazon SQS (``arn:aws:states:::sqs:sendMessage``)."""

    def send_message(
        self,
        *,
        queue_url: Template,
        message_body: Template,
        delay_seconds: Template = None,
        message_attributes: Template = None,
        message_group_id: Template = None,
        message_deduplication_id: Template = None,
        wait_for_task_token: bool = False,
    ) -> Integration:
        """``SendMessage``; the result is ``{"MessageId": ..., "MD5OfMessageBody": ...}``."""
        return _integration(
            "sqs",
            "sendMessage",
            "SQS",
            [
                ("QueueUrl", queue_url),
                ("MessageBody", message_body),
                ("DelaySeconds", delay_seconds),
                ("MessageAttributes", message_attributes),
                ("MessageGroupId", message_group_id),
                ("MessageDeduplicationId", message_deduplication_id),
            ],
            wait_for_task_token,
        )


class SNSIntegrations:
    """Amazon SNS (``arn:aws:states:::sns:publish``)."""

    def publish(
        self,
        *,
        message: Template,
        topic_arn: Template = None,
        target_arn: Template = None,
        phone_number: Template = None,
        subject: Template = None,
        message_attributes: Template = None,
        message_structure: Template = None,
        wait_for_task_token: bool = False,
    ) -> Integration:
        """``Publish``; the result is ``{"MessageId": ...}``."""
        return _integration(
            "sns",
            "publish",
            "SNS",
            [
                ("TopicArn", topic_arn),
                ("TargetArn", target_arn),
                ("PhoneNumber", phone_number),
                ("Message", message),
                ("Subject", subject),
                ("MessageAttributes", message_attributes),
                ("MessageStructure", message_structure),
            ],
            wait_for_task_token,
        )


class EventBridgeIntegrations:
    """Amazon EventBridge (``arn:aws:states:::events:putEvents``)."""

    def entry(
        self,
        *,
        detail: Template,
        detail_type: Template,
        source: Template,
        event_bus_name: Template = None,
        resources: Template = None,
    ) -> dict[str, Template]:
        """One entry of :meth:`put_events` (``Detail`` may be an object; AWS serialises it)."""
        return _fields(
            [
                ("Detail", detail),
                ("DetailType", detail_type),
                ("Source", source),
                ("EventBusName", event_bus_name),
                ("Resources", resources),
            ]
        )

    def put_events(
        self, *, entries: Sequence[Mapping[str, Template]], wait_for_task_token: bool = False
    ) -> Integration:
        """``PutEvents``; a failed entry fails the step with ``EventBridge.FailedEntry``."""
        return Integration(
            _resource("events", "putEvents", wait_for_task_token),
            {"Entries": [dict(entry) for entry in entries]},
            "EventBridge",
        )


class StepFunctionsIntegrations:
    """Starting another state machine (``arn:aws:states:::states:startExecution``)."""

    def start_execution(
        self,
        *,
        state_machine_arn: Template,
        input: Template = None,
        name: Template = None,
        wait: str | None = "sync:2",
        wait_for_task_token: bool = False,
    ) -> Integration:
        """``StartExecution`` of a child machine (a saga of sagas).

        ``wait="sync:2"`` (default) waits for the child and returns its output parsed,
        ``"sync"`` as JSON text, ``None`` returns once it started. A child that fails fails
        the step with ``States.TaskFailed`` (its error and cause inside the cause's JSON).
        """
        if wait not in (None, "sync", "sync:2"):
            raise ValueError(f"wait must be None, 'sync' or 'sync:2', not {wait!r}")
        if wait is not None and wait_for_task_token:
            raise ValueError("wait and wait_for_task_token cannot be combined")
        suffix = f".{wait}" if wait else (_WAIT if wait_for_task_token else "")
        return Integration(
            f"arn:aws:states:::states:startExecution{suffix}",
            _fields([("StateMachineArn", state_machine_arn), ("Input", input), ("Name", name)]),
            "StepFunctions",
        )


def aws_sdk(
    service: str,
    action: str,
    parameters: Mapping[str, Template] | None = None,
    *,
    wait_for_task_token: bool = False,
) -> Integration:
    """Any AWS API through ``arn:aws:states:::aws-sdk:SERVICE:ACTION``.

    ``service`` and ``action`` as Step Functions spells them (``"s3"``, ``"getObject"``);
    ``parameters`` are the API's fields in PascalCase. Errors are named as Step Functions
    names them (``S3.NoSuchKeyException``), so retriers must use that prefix. An unknown
    service or action is rejected here.
    """
    from engine.integrations.aws_sdk import aws_sdk_target

    resource = _resource(f"aws-sdk:{service}", action, wait_for_task_token)
    target = aws_sdk_target(resource)
    if isinstance(target, str):
        raise ValueError(target)
    return Integration(resource, dict(parameters or {}), target.error_service)


states: Final = StepFunctionsIntegrations()
dynamodb: Final = DynamoDBIntegrations()
sqs: Final = SQSIntegrations()
sns: Final = SNSIntegrations()
events: Final = EventBridgeIntegrations()
