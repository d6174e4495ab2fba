"""Test helpers for running against moto in an environment cut off from any real AWS setup."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from moto import mock_aws

from engine.integrations._boto import clear_client_cache

__all__ = ["isolate_aws_env", "moto_aws", "moto_running_state_machines"]


def isolate_aws_env(patch: pytest.MonkeyPatch) -> None:
    """Remove every ``AWS_*`` variable and point the AWS config and credentials files nowhere."""
    for key in list(os.environ):
        if key.startswith("AWS_"):
            patch.delenv(key)
    patch.setenv("AWS_CONFIG_FILE", os.devnull)
    patch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


@contextmanager
def moto_aws(patch: pytest.MonkeyPatch, **env: str) -> Iterator[None]:
    """moto under fake us-east-1 credentials (and ``env``, e.g. ``AWS_MAX_ATTEMPTS``), with
    the engine's cached clients dropped before and after."""
    isolate_aws_env(patch)
    patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    patch.setenv("AWS_ACCESS_KEY_ID", "testing")
    patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for key, value in env.items():
        patch.setenv(key, value)
    clear_client_cache()
    with mock_aws():
        yield
    clear_client_cache()


@contextmanager
def moto_running_state_machines() -> Iterator[None]:
    """moto with Step Functions executing its machines, under fake us-east-1 credentials."""
    with pytest.MonkeyPatch.context() as patch:
        isolate_aws_env(patch)
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        clear_client_cache()
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
            yield
        clear_client_cache()
