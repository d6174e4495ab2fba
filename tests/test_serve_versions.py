"""``saga serve`` through boto3: state machine versions and aliases, kept across a restart."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests._sfn_server import ROLE, client_for, definition, running_server, wait_for

PREFIX = "arn:aws:states:us-east-1:123456789012"


def _pass(comment: str) -> dict[str, Any]:
    return {
        "Comment": comment,
        "StartAt": "Say",
        "States": {"Say": {"Type": "Pass", "Result": {"from": comment}, "End": True}},
    }


@pytest.fixture(scope="module")
def sfn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp("versions")
    with running_server(tmp) as server:
        yield client_for(server.endpoint)


def _create(sfn: Any, name: str, comment: str, **extra: Any) -> dict[str, Any]:
    created: dict[str, Any] = sfn.create_state_machine(
        name=name, definition=definition(_pass(comment)), roleArn=ROLE, **extra
    )
    return created


def _finished(sfn: Any, execution_arn: str) -> dict[str, Any]:
    def done() -> Any:
        described = sfn.describe_execution(executionArn=execution_arn)
        return described if described["status"] != "RUNNING" else None

    found: dict[str, Any] = wait_for(done)
    return found


def _error(info: pytest.ExceptionInfo[Any]) -> tuple[str, str]:
    error = info.value.response["Error"]
    return error["Code"], error["Message"]


def test_publish_on_create_and_describe_the_version(sfn: Any) -> None:
    created = _create(sfn, "Published", "R1", publish=True, versionDescription="first")
    assert created["stateMachineVersionArn"] == f"{PREFIX}:stateMachine:Published:1"
    version = sfn.describe_state_machine(stateMachineArn=created["stateMachineVersionArn"])
    machine = sfn.describe_state_machine(stateMachineArn=created["stateMachineArn"])
    assert version["stateMachineArn"] == f"{PREFIX}:stateMachine:Published:1"
    assert version["name"] == "Published"
    assert version["description"] == "first"
    assert json.loads(version["definition"]) == _pass("R1")
    # Published from the revision it was created with, which has no id (as on AWS).
    assert "revisionId" not in version and "revisionId" not in machine
    assert "description" not in machine
    with pytest.raises(sfn.exceptions.ValidationException) as info:
        _create(sfn, "NotPublished", "R1", versionDescription="orphan")
    assert _error(info) == (
        "ValidationException",
        "Version description can only be set when publish is true",
    )
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist) as info:
        sfn.describe_state_machine(stateMachineArn=f"{PREFIX}:stateMachine:Published:2")
    assert _error(info) == (
        "StateMachineDoesNotExist",
        f"State Machine Does Not Exist: '{PREFIX}:stateMachine:Published:2'",
    )


def test_publish_revisions_list_page_and_delete(sfn: Any) -> None:
    arn = _create(sfn, "Revised", "R1")["stateMachineArn"]
    first = sfn.publish_state_machine_version(stateMachineArn=arn)
    # The same revision again: the existing version, as AWS answers.
    assert (
        sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"]
        == (first["stateMachineVersionArn"])
    )
    revision = sfn.update_state_machine(stateMachineArn=arn, definition=definition(_pass("R2")))
    second = sfn.publish_state_machine_version(
        stateMachineArn=arn, revisionId=revision["revisionId"], description="second"
    )
    assert second["stateMachineVersionArn"] == f"{arn}:2"
    # An update that publishes: the version comes with the answer.
    updated = sfn.update_state_machine(
        stateMachineArn=arn, definition=definition(_pass("R3")), publish=True
    )
    assert updated["stateMachineVersionArn"] == f"{arn}:3"
    stale = revision["revisionId"]
    with pytest.raises(sfn.exceptions.ConflictException) as info:
        sfn.publish_state_machine_version(stateMachineArn=arn, revisionId=stale)
    assert _error(info) == (
        "ConflictException",
        f"Failed to publish the State Machine version for revision {stale}. "
        f"The current State Machine revision is {updated['revisionId']}.",
    )
    listed = sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
    assert [v["stateMachineVersionArn"] for v in listed] == [f"{arn}:3", f"{arn}:2", f"{arn}:1"]
    page = sfn.list_state_machine_versions(stateMachineArn=arn, maxResults=2)
    assert [v["stateMachineVersionArn"] for v in page["stateMachineVersions"]] == [
        f"{arn}:3",
        f"{arn}:2",
    ]
    rest = sfn.list_state_machine_versions(
        stateMachineArn=arn, maxResults=2, nextToken=page["nextToken"]
    )
    assert [v["stateMachineVersionArn"] for v in rest["stateMachineVersions"]] == [f"{arn}:1"]
    assert "nextToken" not in rest
    sfn.delete_state_machine_version(stateMachineVersionArn=f"{arn}:3")
    sfn.delete_state_machine_version(stateMachineVersionArn=f"{arn}:3")  # gone: no error
    # Numbers are not given out again after a deletion.
    sfn.update_state_machine(stateMachineArn=arn, definition=definition(_pass("R4")))
    assert sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"] == (
        f"{arn}:4"
    )


def test_start_a_version(sfn: Any) -> None:
    created = _create(sfn, "Versioned", "R1", publish=True)
    arn = created["stateMachineArn"]
    sfn.update_state_machine(stateMachineArn=arn, definition=definition(_pass("R2")))
    version = created["stateMachineVersionArn"]
    started = sfn.start_execution(stateMachineArn=version, name="on-v1")
    assert started["executionArn"] == f"{PREFIX}:execution:Versioned:on-v1"
    described = _finished(sfn, started["executionArn"])
    assert described["stateMachineArn"] == arn
    assert described["stateMachineVersionArn"] == version
    assert "stateMachineAliasArn" not in described
    assert json.loads(described["output"]) == {"from": "R1"}  # the version's definition
    ran = sfn.describe_state_machine_for_execution(executionArn=started["executionArn"])
    assert ran["stateMachineArn"] == arn
    assert ran["definition"] == definition(_pass("R1"))
    assert "revisionId" not in ran  # version 1 froze the revision the machine was created with
    latest = sfn.start_execution(stateMachineArn=arn, name="on-latest")
    assert json.loads(_finished(sfn, latest["executionArn"])["output"]) == {"from": "R2"}
    listed = sfn.list_executions(stateMachineArn=version)["executions"]
    assert [e["name"] for e in listed] == ["on-v1"]
    assert listed[0]["stateMachineVersionArn"] == version
    assert listed[0]["redriveCount"] == 0


def test_alias_lifecycle_and_routing(sfn: Any) -> None:
    arn = _create(sfn, "Aliased", "R1", publish=True)["stateMachineArn"]
    sfn.update_state_machine(stateMachineArn=arn, definition=definition(_pass("R2")))
    sfn.publish_state_machine_version(stateMachineArn=arn)
    alias = sfn.create_state_machine_alias(
        name="live",
        description="production",
        routingConfiguration=[{"stateMachineVersionArn": f"{arn}:1", "weight": 100}],
    )["stateMachineAliasArn"]
    assert alias == f"{arn}:live"
    # The same request again is idempotent; a different one conflicts.
    again = sfn.create_state_machine_alias(
        name="live",
        description="production",
        routingConfiguration=[{"stateMachineVersionArn": f"{arn}:1", "weight": 100}],
    )
    assert again["stateMachineAliasArn"] == alias
    with pytest.raises(sfn.exceptions.ConflictException) as info:
        sfn.create_state_machine_alias(
            name="live",
            routingConfiguration=[{"stateMachineVersionArn": f"{arn}:2", "weight": 100}],
        )
    assert _error(info) == (
        "ConflictException",
        "Failed to create alias because an alias with the same name and a different routing "
        "configuration already exists.",
    )
    described = sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
    assert {k: described[k] for k in ("name", "description", "routingConfiguration")} == {
        "name": "live",
        "description": "production",
        "routingConfiguration": [{"stateMachineVersionArn": f"{arn}:1", "weight": 100}],
    }
    started = sfn.start_execution(stateMachineArn=alias, name="via-alias")
    execution = _finished(sfn, started["executionArn"])
    assert execution["stateMachineAliasArn"] == alias
    assert execution["stateMachineVersionArn"] == f"{arn}:1"
    assert json.loads(execution["output"]) == {"from": "R1"}
    started_event = sfn.get_execution_history(executionArn=started["executionArn"])["events"][0]
    assert started_event["executionStartedEventDetails"] == {
        "input": "{}",
        "inputDetails": {"truncated": False},
        "roleArn": ROLE,
        "stateMachineAliasArn": alias,
        "stateMachineVersionArn": f"{arn}:1",
    }

    sfn.update_state_machine_alias(
        stateMachineAliasArn=alias,
        routingConfiguration=[
            {"stateMachineVersionArn": f"{arn}:1", "weight": 50},
            {"stateMachineVersionArn": f"{arn}:2", "weight": 50},
        ],
    )
    routed = sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
    assert routed["description"] == "production"
    assert [r["weight"] for r in routed["routingConfiguration"]] == [50, 50]
    # Routing draws from the execution name: both versions get executions, and the same
    # name (on a fresh machine with the same alias) would take the same version.
    versions = []
    for index in range(12):
        run = sfn.start_execution(stateMachineArn=alias, name=f"split-{index}")
        versions.append(_finished(sfn, run["executionArn"])["stateMachineVersionArn"])
    assert set(versions) == {f"{arn}:1", f"{arn}:2"}
    listed = sfn.list_executions(stateMachineArn=alias)["executions"]
    assert len(listed) == 13
    assert all(item["stateMachineAliasArn"] == alias for item in listed)

    with pytest.raises(sfn.exceptions.ConflictException) as info:
        sfn.delete_state_machine_version(stateMachineVersionArn=f"{arn}:2")
    assert _error(info) == (
        "ConflictException",
        "Version to be deleted must not be referenced by an alias. Current list of aliases "
        "referencing this version: [live]",
    )
    second = sfn.create_state_machine_alias(
        name="canary",
        routingConfiguration=[{"stateMachineVersionArn": f"{arn}:2", "weight": 100}],
    )["stateMachineAliasArn"]
    listed_aliases = sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"]
    assert [a["stateMachineAliasArn"] for a in listed_aliases] == [alias, second]
    sfn.delete_state_machine_alias(stateMachineAliasArn=second)
    sfn.delete_state_machine_alias(stateMachineAliasArn=second)  # gone: no error
    assert [
        a["stateMachineAliasArn"]
        for a in sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"]
    ] == [alias]
    with pytest.raises(sfn.exceptions.ResourceNotFound) as info:
        sfn.describe_state_machine_alias(stateMachineAliasArn=second)
    assert _error(info) == (
        "ResourceNotFound",
        "Request references a resource that does not exist.",
    )
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.update_state_machine_alias(stateMachineAliasArn=second, description="x")


@pytest.mark.parametrize(
    ("name", "routing", "message"),
    [
        (
            "NotVersions",
            [("", 100)],
            "Routing configuration must contain state machine version ARNs. Received: [{arn}]",
        ),
        (
            "Duplicates",
            [(":1", 50), (":1", 50)],
            "Routing configuration must contain distinct state machine version ARNs. "
            "Received: [{arn}:1, {arn}:1]",
        ),
        (
            "Weights",
            [(":1", 70), (":2", 29)],
            "Sum of routing configuration weights must equal 100. Received: [70, 29]",
        ),
    ],
)
def test_alias_routing_refused(
    sfn: Any, name: str, routing: list[tuple[str, int]], message: str
) -> None:
    created = _create(sfn, name, "R1", publish=True)
    arn = created["stateMachineArn"]
    sfn.update_state_machine(stateMachineArn=arn, definition=definition(_pass("R2")), publish=True)
    with pytest.raises(sfn.exceptions.ValidationException) as info:
        sfn.create_state_machine_alias(
            name="bad",
            routingConfiguration=[
                {"stateMachineVersionArn": f"{arn}{suffix}", "weight": weight}
                for suffix, weight in routing
            ],
        )
    assert _error(info) == ("ValidationException", message.format(arn=arn))


def test_alias_name_refused(sfn: Any) -> None:
    arn = _create(sfn, "Named", "R1", publish=True)["stateMachineArn"]
    with pytest.raises(sfn.exceptions.ValidationException) as info:
        sfn.create_state_machine_alias(
            name="123",
            routingConfiguration=[{"stateMachineVersionArn": f"{arn}:1", "weight": 100}],
        )
    assert _error(info) == (
        "ValidationException",
        "1 validation error detected: Value '123' at 'name' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: "
        r"^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$",
    )


def test_versions_and_aliases_survive_a_restart(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    with running_server(tmp_path, "--store", str(store)) as server:
        sfn = client_for(server.endpoint)
        arn = _create(sfn, "Kept", "R1", publish=True, versionDescription="v1")["stateMachineArn"]
        sfn.create_state_machine_alias(
            name="live",
            routingConfiguration=[{"stateMachineVersionArn": f"{arn}:1", "weight": 100}],
        )
        started = sfn.start_execution(stateMachineArn=f"{arn}:live", name="before")
        _finished(sfn, started["executionArn"])
    with running_server(tmp_path, "--store", str(store)) as server:
        sfn = client_for(server.endpoint)
        versions = sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
        assert [v["stateMachineVersionArn"] for v in versions] == [f"{arn}:1"]
        assert sfn.describe_state_machine(stateMachineArn=f"{arn}:1")["description"] == "v1"
        alias = sfn.describe_state_machine_alias(stateMachineAliasArn=f"{arn}:live")
        assert alias["routingConfiguration"] == [
            {"stateMachineVersionArn": f"{arn}:1", "weight": 100}
        ]
        before = sfn.describe_execution(executionArn=started["executionArn"])
        assert before["stateMachineAliasArn"] == f"{arn}:live"
        assert before["stateMachineVersionArn"] == f"{arn}:1"
        after = sfn.start_execution(stateMachineArn=f"{arn}:live", name="after")
        assert _finished(sfn, after["executionArn"])["status"] == "SUCCEEDED"
        # Deleting the machine takes its versions and aliases with it.
        sfn.delete_state_machine(stateMachineArn=arn)
        with pytest.raises(sfn.exceptions.ResourceNotFound):
            sfn.describe_state_machine_alias(stateMachineAliasArn=f"{arn}:live")
