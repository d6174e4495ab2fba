"""``saga serve`` answers API calls with the shapes, codes and messages AWS Step Functions recorded.

Each test exercises one behaviour whose AWS answer is known from recorded responses; the
definitions here are this project's own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests._sfn_server import ROLE, client_for, definition, running_server

PREFIX = "arn:aws:states:us-east-1:123456789012"
OTHER_ROLE = "arn:aws:iam::123456789012:role/OtherRole"


def _pass(result: Any) -> dict[str, Any]:
    return {"StartAt": "Only", "States": {"Only": {"Type": "Pass", "Result": result, "End": True}}}


@pytest.fixture(scope="module")
def sfn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with running_server(tmp_path_factory.mktemp("recorded")) as server:
        yield client_for(server.endpoint)


def _error(info: pytest.ExceptionInfo[Any]) -> tuple[str, str]:
    error = info.value.response["Error"]
    return error["Code"], error["Message"]


def test_revision_id_appears_from_the_first_update_that_changes_the_machine(sfn: Any) -> None:
    document = definition(_pass({"n": 1}))
    created = sfn.create_state_machine(
        name="Revisions", definition=document, roleArn=ROLE, publish=True
    )
    arn = created["stateMachineArn"]
    assert "revisionId" not in sfn.describe_state_machine(stateMachineArn=arn)
    assert "revisionId" not in sfn.describe_state_machine(
        stateMachineArn=created["stateMachineVersionArn"]
    )
    # An update that changes nothing keeps the first revision: still no id, same version.
    same = sfn.update_state_machine(stateMachineArn=arn, definition=document, publish=True)
    assert "revisionId" not in same
    assert same["stateMachineVersionArn"] == f"{PREFIX}:stateMachine:Revisions:1"
    changed = sfn.update_state_machine(stateMachineArn=arn, roleArn=OTHER_ROLE)
    revision = changed["revisionId"]
    assert sfn.describe_state_machine(stateMachineArn=arn)["revisionId"] == revision
    again = sfn.update_state_machine(stateMachineArn=arn, definition=document, roleArn=OTHER_ROLE)
    assert again["revisionId"] == revision
    assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == _pass(
        {"n": 1}
    )


def test_list_state_machines_is_in_name_order_across_pages(sfn: Any) -> None:
    names = [f"Listed_{i}_x" for i in (2, 10, 1, 0)]
    for name in names:
        sfn.create_state_machine(name=name, definition=definition(_pass(1)), roleArn=ROLE)
    listed: list[str] = []
    for page in sfn.get_paginator("list_state_machines").paginate(maxResults=3):
        listed += [m["name"] for m in page["stateMachines"] if m["name"].startswith("Listed_")]
    # "_" sorts after the digits: Listed_10_x comes before Listed_1_x, as AWS lists them.
    assert listed == ["Listed_0_x", "Listed_10_x", "Listed_1_x", "Listed_2_x"]
