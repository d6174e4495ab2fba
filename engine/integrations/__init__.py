"""Built-in optimised service integrations (DynamoDB, SQS, SNS, EventBridge, Step Functions)."""

from __future__ import annotations

from engine.integrations.optimised import ServiceIntegration, integration_for

__all__ = ["ServiceIntegration", "integration_for"]
