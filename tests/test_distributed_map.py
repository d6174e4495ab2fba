"""Distributed Map locally: every ItemReader format over S3 (moto), batching, tolerated
failures, ResultWriter exports, map-run records and history events."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from typing import Any

import anyio
import boto3
import pytest
from moto import mock_aws

import engine
from engine.distributed.readers import json_array_items
from engine.errors import StatesError
from engine.integrations._boto import clear_client_cache
from engine.local_engine import LocalEngine
from tests._aws import isolate_aws_env

BUCKET = "data"
PROCESSOR = {
    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
    "StartAt": "Work",
    "States": {"Work": {"Type": "Task", "Resource": "Work", "End": True}},
}


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    isolate_aws_env(monkeypatch)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    clear_client_cache()
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        yield client
    clear_client_cache()


def _map(reader: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    processor = json.loads(json.dumps(PROCESSOR))  # each test may change its own copy
    state: dict[str, Any] = {"Type": "Map", "ItemProcessor": processor, "End": True, **extra}
    if reader is not None:
        state["ItemReader"] = reader
    return {"StartAt": "Fan", "States": {"Fan": state}}


def _get(input_type: str, key: str, **config: Any) -> dict[str, Any]:
    return {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": input_type, **config},
        "Parameters": {"Bucket": BUCKET, "Key": key},
    }


def echo(event: Any) -> Any:
    return event


def _run(machine: dict[str, Any], data: Any = None, handler: Any = echo) -> Any:
    return engine.run(machine, data or {}, handlers={"Work": handler}, name="run-1")


def test_items_from_input_history_and_map_run_record() -> None:
    machine = _map(Label="Fanout", MaxConcurrency=2, ItemsPath="$.items")
    machine["States"]["Fan"]["ItemSelector"] = {
        "n.$": "$$.Map.Item.Value",
        "i.$": "$$.Map.Item.Index",
    }

    async def main() -> tuple[Any, dict[str, Any]]:
        async with LocalEngine(handlers={"Work": echo}) as local:
            execution = await local.execute(machine, {"items": [10, 20, 30]}, "run-1")
            [map_run] = local.list_map_runs("run-1")
            return execution, local.describe_map_run(map_run.map_run_arn)

    execution, described = anyio.run(main)
    assert execution.status == "SUCCEEDED"
    assert execution.output == [{"n": 10, "i": 0}, {"n": 20, "i": 1}, {"n": 30, "i": 2}]
    types = [event.type for event in execution.history]
    assert types == [
        "ExecutionStarted",
        "MapStateEntered",
        "MapStateStarted",
        "MapRunStarted",
        "MapRunSucceeded",
        "MapStateSucceeded",
        "MapStateExited",
        "ExecutionSucceeded",
    ]
    assert execution.history[2].details == {"length": 3}
    arn = execution.history[3].details["mapRunArn"]
    assert arn.startswith("arn:aws:states:us-east-1:123456789012:mapRun:LocalStateMachine/Fanout:")
    assert described["mapRunArn"] == arn
    assert described["status"] == "SUCCEEDED"
    assert described["maxConcurrency"] == 2
    assert described["itemCounts"]["succeeded"] == 3
    assert described["itemCounts"]["total"] == 3
    assert described["executionCounts"]["succeeded"] == 3
    assert described["executionCounts"]["failed"] == 0


def test_child_sees_its_own_execution_context() -> None:
    machine = _map()
    machine["States"]["Fan"]["ItemProcessor"] = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED"},
        "StartAt": "Who",
        "States": {
            "Who": {
                "Type": "Pass",
                "Parameters": {"id.$": "$$.Execution.Id", "machine.$": "$$.StateMachine.Id"},
                "End": True,
            }
        },
    }
    execution = _run(machine, ["a"])
    [child] = execution.output
    assert (
        child["machine"]
        == "arn:aws:states:us-east-1:123456789012:stateMachine:LocalStateMachine/Fan"
    )
    assert child["id"].startswith(
        "arn:aws:states:us-east-1:123456789012:execution:LocalStateMachine/Fan:"
    )


def test_list_objects_v2_reader(s3: Any) -> None:
    for key in ("in/a.txt", "in/b.txt", "other/c.txt"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"hello")
    reader = {
        "Resource": "arn:aws:states:::s3:listObjectsV2",
        "Parameters": {"Bucket": BUCKET, "Prefix.$": "$.prefix"},
    }
    execution = _run(_map(reader), {"prefix": "in/"})
    assert execution.status == "SUCCEEDED"
    assert [item["Key"] for item in execution.output] == ["in/a.txt", "in/b.txt"]
    first = execution.output[0]
    assert sorted(first) == ["Etag", "Key", "LastModified", "Size", "StorageClass"]
    assert (first["Size"], first["StorageClass"]) == (5, "STANDARD")
    assert isinstance(first["LastModified"], int)
    assert execution.history[2].details == {"length": 0}


def test_json_reader_with_max_items(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="items.json", Body=json.dumps([{"id": i} for i in range(5)]))
    execution = _run(_map(_get("JSON", "items.json", MaxItems=3)))
    assert execution.output == [{"id": 0}, {"id": 1}, {"id": 2}]


def test_json_reader_refuses_a_non_array(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="object.json", Body=b'{"not": "a list"}')
    execution = _run(_map(_get("JSON", "object.json")))
    assert (execution.status, execution.error, execution.cause) == (
        "FAILED",
        "States.ItemReaderFailed",
        "Attempting to map over non-iterable node.",
    )
    types = [event.type for event in execution.history]
    assert types[2:6] == ["MapStateStarted", "MapRunStarted", "MapRunFailed", "MapStateFailed"]
    assert execution.history[4].details == {
        "error": "States.ItemReaderFailed",
        "cause": "Attempting to map over non-iterable node.",
    }


def test_jsonl_reader(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="items.jsonl", Body=b'{"id": 1}\n\n{"id": 2}\n"three"\n')
    execution = _run(_map(_get("JSONL", "items.jsonl")))
    assert execution.output == [{"id": 1}, {"id": 2}, "three"]


def test_csv_reader_first_row_headers(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="rows.csv", Body=b"H1,\nValue4,Value5,Value6\n,,,\ntrue,1\n")
    execution = _run(_map(_get("CSV", "rows.csv", CSVHeaderLocation="FIRST_ROW")))
    # As AWS recorded: values are strings, extra fields dropped, missing ones "".
    assert execution.output == [
        {"H1": "Value4", "": "Value5"},
        {"H1": "", "": ""},
        {"H1": "true", "": "1"},
    ]


def test_csv_reader_given_headers_and_delimiter(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="rows.csv", Body=b"a|b|c\nd|e\n")
    reader = _get(
        "CSV", "rows.csv", CSVHeaderLocation="GIVEN", CSVHeaders=["x", "y"], CSVDelimiter="PIPE"
    )
    execution = _run(_map(reader))
    assert execution.output == [{"x": "a", "y": "b"}, {"x": "d", "y": "e"}]


def test_csv_reader_duplicate_headers_fail_as_aws(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="rows.csv", Body=b"a,b\n")
    reader = _get("CSV", "rows.csv", CSVHeaderLocation="GIVEN", CSVHeaders=["x", "x"])
    execution = _run(_map(reader))
    assert (execution.error, execution.cause) == (
        "States.ItemReaderFailed",
        "CSV headers cannot contain duplicates.",
    )


def test_manifest_reader_over_s3_inventory(s3: Any) -> None:
    rows = io.StringIO()
    csv.writer(rows).writerows([[BUCKET, "photos/1.jpg", "10"], [BUCKET, "photos/2.jpg", "20"]])
    s3.put_object(
        Bucket=BUCKET,
        Key="inventory/data/part-1.csv.gz",
        Body=gzip.compress(rows.getvalue().encode()),
    )
    manifest = {
        "sourceBucket": BUCKET,
        "destinationBucket": f"arn:aws:s3:::{BUCKET}",
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, Size",
        "files": [{"key": "inventory/data/part-1.csv.gz", "size": 60}],
    }
    s3.put_object(Bucket=BUCKET, Key="inventory/manifest.json", Body=json.dumps(manifest))
    execution = _run(_map(_get("MANIFEST", "inventory/manifest.json")))
    assert execution.output == [
        {"Bucket": BUCKET, "Key": "photos/1.jpg", "Size": "10"},
        {"Bucket": BUCKET, "Key": "photos/2.jpg", "Size": "20"},
    ]


def test_item_batcher() -> None:
    machine = _map(
        ItemBatcher={"MaxItemsPerBatch": 2, "BatchInput": {"run.$": "$.run"}},
        ItemsPath="$.items",
    )
    execution = _run(machine, {"run": "r1", "items": [1, 2, 3, 4, 5]})
    assert execution.output == [
        {"BatchInput": {"run": "r1"}, "Items": [1, 2]},
        {"BatchInput": {"run": "r1"}, "Items": [3, 4]},
        {"BatchInput": {"run": "r1"}, "Items": [5]},
    ]
    by_bytes = _map(ItemBatcher={"MaxInputBytesPerBatch": 30}, ItemsPath="$.items")
    execution = _run(by_bytes, {"items": ["aaaa", "bbbb", "cccc", "dddd"]})
    # {"Items":["aaaa","bbbb"]} is 25 bytes; a third item would make it 32 > 30.
    assert len(json.dumps({"Items": ["aaaa", "bbbb"]}, separators=(",", ":"))) == 25
    assert [batch["Items"] for batch in execution.output] == [["aaaa", "bbbb"], ["cccc", "dddd"]]


def _picky(event: Any) -> Any:
    if event["n"] % 3 == 0:
        raise ValueError(f"cannot take {event['n']}")
    return {"ok": event["n"]}


def test_tolerated_failures_and_result_writer(s3: Any) -> None:
    s3.put_object(
        Bucket=BUCKET,
        Key="jobs.jsonl",
        Body="\n".join(json.dumps({"n": n}) for n in range(1, 7)).encode(),
    )
    machine = _map(
        _get("JSONL", "jobs.jsonl"),
        MaxConcurrency=1,
        ToleratedFailureCount=2,
        ResultWriter={
            "Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": BUCKET, "Prefix": "results"},
        },
    )
    execution = _run(machine, handler=_picky)
    assert execution.status == "SUCCEEDED"
    arn = execution.output["MapRunArn"]
    run_id = arn.rsplit(":", 1)[-1]
    manifest_key = f"results/{run_id}/manifest.json"
    assert execution.output["ResultWriterDetails"] == {"Bucket": BUCKET, "Key": manifest_key}
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=manifest_key)["Body"].read())
    assert manifest["DestinationBucket"] == BUCKET
    assert manifest["MapRunArn"] == arn
    assert manifest["ResultFiles"]["PENDING"] == []
    [succeeded_file] = manifest["ResultFiles"]["SUCCEEDED"]
    [failed_file] = manifest["ResultFiles"]["FAILED"]
    assert succeeded_file["Key"] == f"results/{run_id}/SUCCEEDED_0.json"
    assert failed_file["Key"] == f"results/{run_id}/FAILED_0.json"
    succeeded = json.loads(s3.get_object(Bucket=BUCKET, Key=succeeded_file["Key"])["Body"].read())
    failed = json.loads(s3.get_object(Bucket=BUCKET, Key=failed_file["Key"])["Body"].read())
    assert len(json.dumps(succeeded, separators=(",", ":"))) == succeeded_file["Size"]
    # Result files hold children in the order they ended, which AWS does not fix either.
    succeeded.sort(key=lambda r: json.loads(r["Input"])["n"])
    failed.sort(key=lambda r: json.loads(r["Input"])["n"])
    assert [json.loads(r["Output"]) for r in succeeded] == [
        {"ok": 1},
        {"ok": 2},
        {"ok": 4},
        {"ok": 5},
    ]
    assert [r["Status"] for r in succeeded] == ["SUCCEEDED"] * 4
    assert [(json.loads(r["Input"]), r["Error"], r["Cause"]) for r in failed] == [
        ({"n": 3}, "ValueError", "cannot take 3"),
        ({"n": 6}, "ValueError", "cannot take 6"),
    ]
    assert sorted(succeeded[0]) == [
        "ExecutionArn",
        "Input",
        "InputDetails",
        "Name",
        "Output",
        "OutputDetails",
        "RedriveCount",
        "RedriveStatus",
        "RedriveStatusReason",
        "StartDate",
        "StateMachineArn",
        "Status",
        "StopDate",
    ]


def test_exceeding_the_tolerated_failures_fails_and_is_caught(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="jobs.json", Body=json.dumps([{"n": n} for n in range(1, 10)]))
    machine = _map(_get("JSON", "jobs.json"), MaxConcurrency=1, ToleratedFailurePercentage=20)
    fan = machine["States"]["Fan"]
    del fan["End"]
    fan["Catch"] = [
        {
            "ErrorEquals": ["States.ExceedToleratedFailureThreshold"],
            "ResultPath": "$.error",
            "Next": "Handled",
        }
    ]
    fan["Next"] = "Handled"
    machine["States"]["Handled"] = {"Type": "Pass", "End": True}

    async def main() -> tuple[Any, Any]:
        async with LocalEngine(handlers={"Work": _picky}) as local:
            execution = await local.execute(machine, {}, "run-1")
            return execution, local.list_map_runs("run-1")[0]

    execution, map_run = anyio.run(main)
    assert execution.status == "SUCCEEDED"
    assert execution.output["error"]["Error"] == "States.ExceedToleratedFailureThreshold"
    # 3 of 9 items failed: 33% > 20%.
    assert (map_run.status, map_run.item_counts["failed"], map_run.item_counts["total"]) == (
        "FAILED",
        3,
        9,
    )
    failed = next(event for event in execution.history if event.type == "MapRunFailed")
    assert failed.details["error"] == "States.ExceedToleratedFailureThreshold"


def test_a_failure_without_tolerance_stops_the_run() -> None:
    machine = _map(MaxConcurrency=1)
    execution = _run(machine, [{"n": 1}, {"n": 3}, {"n": 4}], handler=_picky)
    assert (execution.status, execution.error) == (
        "FAILED",
        "States.ExceedToleratedFailureThreshold",
    )


def test_tolerated_failures_without_writer_keep_the_failed_record() -> None:
    machine = _map(MaxConcurrency=1, ToleratedFailureCount=1)
    execution = _run(machine, [{"n": 1}, {"n": 3}], handler=_picky)
    assert execution.status == "SUCCEEDED"
    ok, failed = execution.output
    assert ok == {"ok": 1}
    assert (failed["Status"], failed["Error"], failed["Cause"]) == (
        "FAILED",
        "ValueError",
        "cannot take 3",
    )


def test_streaming_json_parser_across_chunk_boundaries() -> None:
    values = [{"id": i, "pad": "x" * (i % 97), "f": i / 7} for i in range(6000)] + [12345678901234]
    text = io.StringIO(json.dumps(values))
    assert list(json_array_items(text)) == values
    assert list(json_array_items(io.StringIO(" [ ] "))) == []
    # ItemsPointer walks past large siblings (decoded one at a time) across chunk boundaries.
    document = {"before": values, "runs": [{"skip": values}, {"items": values[:5]}], "after": 1}
    text = io.StringIO(json.dumps(document))
    assert list(json_array_items(text, "/runs/1/items")) == values[:5]
    assert list(json_array_items(io.StringIO('{"a~/b": [1]}'), "/a~0~1b")) == [1]
    assert list(json_array_items(io.StringIO("[[7, 8]]"), "/0")) == [7, 8]


def test_incomplete_reader_and_batcher_are_refused_before_the_run() -> None:
    machine = _map(
        _get("CSV", "rows.csv", CSVHeaderLocation="GIVEN"),
        ItemBatcher={"BatchInput": {}},
    )
    with pytest.raises(engine.DefinitionError) as raised:
        _run(machine)
    assert sorted(d.location for d in raised.value.diagnostics) == [
        "/States/Fan/ItemBatcher",
        "/States/Fan/ItemReader/ReaderConfig/CSVHeaders",
    ]


def test_reader_and_writer_follow_aws_endpoint_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    port = server._server.port  # the port the OS gave it
    try:
        isolate_aws_env(monkeypatch)
        endpoint = f"http://127.0.0.1:{port}"
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        clear_client_cache()
        client = boto3.client("s3", endpoint_url=endpoint)
        client.create_bucket(Bucket=BUCKET)
        client.put_object(Bucket=BUCKET, Key="in.json", Body=b'[{"n": 1}, {"n": 2}]')
        machine = _map(
            _get("JSON", "in.json"),
            ResultWriter={
                "Resource": "arn:aws:states:::s3:putObject",
                "Parameters": {"Bucket": BUCKET, "Prefix": "out"},
                "WriterConfig": {"Transformation": "COMPACT"},
            },
        )
        execution = _run(machine)
        assert execution.status == "SUCCEEDED", execution.cause
        run_id = execution.output["MapRunArn"].rsplit(":", 1)[-1]
        body = client.get_object(Bucket=BUCKET, Key=f"out/{run_id}/SUCCEEDED_0.json")["Body"]
        # in the order the children ended, which AWS does not fix either
        assert sorted(json.loads(body.read()), key=lambda v: v["n"]) == [{"n": 1}, {"n": 2}]
    finally:
        server.stop()
        clear_client_cache()


def test_a_map_run_in_progress_goes_on_after_a_resume(tmp_path: Any) -> None:
    from engine.store import SQLiteStore

    asked: list[tuple[int, str]] = []

    def ask(event: Any) -> Any:
        asked.append((event["n"], event["token"]))
        return {}

    machine = _map(ItemsPath="$.items", MaxConcurrency=1)
    machine["States"]["Fan"]["ItemProcessor"]["States"] = {
        "Work": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {
                "FunctionName": "ask",
                "Payload": {"n.$": "$", "token.$": "$$.Task.Token"},
            },
            "End": True,
        }
    }
    path = tmp_path / "runs.db"

    async def answered(local: LocalEngine, count: int, value: Any) -> None:
        while len(asked) < count:
            await anyio.sleep(0.01)
        local.send_task_success(asked[-1][1], value)

    async def first() -> list[dict[str, Any]]:
        with SQLiteStore(path) as store:
            async with LocalEngine(store=store, handlers={"ask": ask}) as local:
                await local.start_execution(machine, {"items": [1, 2, 3]}, "p")
                await answered(local, 1, {"ok": 1})  # the first child ends
                while len(asked) < 2:  # the second one waits: the engine goes away
                    await anyio.sleep(0.01)
                return [run.describe() for run in local.list_map_runs("p")]

    async def second() -> tuple[Any, list[dict[str, Any]]]:
        with SQLiteStore(path) as store:
            stored = [run.describe() for run in store.map_runs("p")]
            async with LocalEngine(store=store, handlers={"ask": ask}) as local:
                handle = await local.resume("p")
                await answered(local, 3, {"ok": 2})
                await answered(local, 4, {"ok": 3})
                return await handle.result(), stored

    before = anyio.run(first)
    execution, stored = anyio.run(second)
    assert execution.status == "SUCCEEDED"
    assert execution.output == [{"ok": 1}, {"ok": 2}, {"ok": 3}]
    # item 1 ended before the engine went away: not asked again; item 2 is asked again
    assert [n for n, _ in asked] == [1, 2, 2, 3]
    types = [event.type for event in execution.history]
    assert types.count("MapStateStarted") == 1
    assert types.count("MapRunStarted") == 1  # the same run went on
    assert types.count("MapRunSucceeded") == 1
    [run] = stored
    assert run["mapRunArn"] == before[0]["mapRunArn"] == execution.map_runs[0].map_run_arn
    assert run["status"] == "RUNNING"
    # counts are written as each child ends: the second child's start was not
    assert run["executionCounts"]["succeeded"] == 1
    assert run["executionCounts"]["total"] == 1
    [final] = execution.map_runs
    assert final.status == "SUCCEEDED"
    assert final.execution_counts["succeeded"] == 3
    assert final.execution_counts["total"] == 3
    assert final.execution_counts["running"] == 0


def test_a_resumed_map_run_ends_as_an_uninterrupted_one(tmp_path: Any) -> None:
    from engine.store import SQLiteStore

    asked: list[tuple[int, str]] = []

    def ask(event: Any) -> Any:
        if event["n"] == 1:
            raise StatesError("Item.Broken", "bad item")
        asked.append((event["n"], event["token"]))
        return {}

    machine = _map(ItemsPath="$.items", MaxConcurrency=1, ToleratedFailureCount=1)
    machine["States"]["Fan"]["ItemProcessor"]["States"] = {
        "Work": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {
                "FunctionName": "ask",
                "Payload": {"n.$": "$", "token.$": "$$.Task.Token"},
            },
            "End": True,
        }
    }
    calls: list[int] = []

    def counted(event: Any) -> Any:
        calls.append(event["n"])
        return ask(event)

    async def answer_all(local: LocalEngine, answered: int) -> None:
        while True:
            while len(asked) <= answered:
                await anyio.sleep(0.01)
            n, token = asked[answered]
            answered += 1
            local.send_task_success(token, {"ok": n})
            if n == 3:
                return

    async def uninterrupted() -> Any:
        async with LocalEngine(handlers={"ask": counted}) as local:
            handle = await local.start_execution(machine, {"items": [1, 2, 3]}, "whole")
            await answer_all(local, 0)
            return await handle.result()

    whole = anyio.run(uninterrupted)
    assert whole.status == "SUCCEEDED"
    assert calls == [1, 2, 3]
    calls.clear()
    asked.clear()
    path = tmp_path / "runs.db"

    async def first() -> None:
        with SQLiteStore(path) as store:
            async with LocalEngine(store=store, handlers={"ask": counted}) as local:
                await local.start_execution(machine, {"items": [1, 2, 3]}, "p")
                while not asked:  # item 1 failed, item 2 waits: the engine goes away
                    await anyio.sleep(0.01)

    async def second() -> Any:
        with SQLiteStore(path) as store:
            async with LocalEngine(store=store, handlers={"ask": counted}) as local:
                handle = await local.resume("p")
                await answer_all(local, 1)
                return await handle.result()

    anyio.run(first)
    resumed = anyio.run(second)
    assert calls == [1, 2, 2, 3]  # the failed item 1 is not run again
    assert resumed.status == whole.status
    varying = {"ExecutionArn", "Name", "StartDate", "StopDate"}  # per execution, per run

    def same(output: list[Any]) -> list[Any]:
        return [
            {k: v for k, v in item.items() if k not in varying} if "Status" in item else item
            for item in output
        ]

    assert same(resumed.output) == same(whole.output)
    assert resumed.output[0]["Status"] == "FAILED"
    assert resumed.output[1:] == [{"ok": 2}, {"ok": 3}]
    [run], [run_whole] = resumed.map_runs, whole.map_runs
    assert run.item_counts == run_whole.item_counts
    assert run.execution_counts == run_whole.execution_counts
    assert run.execution_counts["failed"] == 1
    assert run.execution_counts["succeeded"] == 2


def test_update_map_run_changes_a_running_run() -> None:
    asked: list[tuple[int, str]] = []

    def ask(event: Any) -> Any:
        asked.append((event["n"], event["token"]))
        return {}

    machine = _map(ItemsPath="$.items", MaxConcurrency=2)
    machine["States"]["Fan"]["ItemProcessor"]["States"] = {
        "Work": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {
                "FunctionName": "ask",
                "Payload": {"n.$": "$", "token.$": "$$.Task.Token"},
            },
            "End": True,
        }
    }

    async def waiting_for(count: int) -> None:
        while len(asked) < count:
            await anyio.sleep(0.01)

    async def main() -> tuple[Any, list[int], str]:
        async with LocalEngine(handlers={"ask": ask}) as local:
            handle = await local.start_execution(machine, {"items": [1, 2, 3, 4]}, "u")
            await waiting_for(2)  # two at once
            [run] = local.list_map_runs("u")
            # without the update, item 1's failure would end the run (no failure tolerated)
            local.update_map_run(run.map_run_arn, max_concurrency=1, tolerated_failure_count=1)
            local.send_task_failure(asked[0][1], "Item.Broken", "bad item")
            local.send_task_success(asked[1][1], {"ok": 2})
            await waiting_for(3)
            await anyio.sleep(0.05)
            outstanding = len(asked)  # one child at a time now: item 4 waits for item 3
            local.send_task_success(asked[2][1], {"ok": 3})
            await waiting_for(4)
            local.send_task_success(asked[3][1], {"ok": 4})
            execution = await handle.result()
            with pytest.raises(ValueError) as ended:
                local.update_map_run(run.map_run_arn, max_concurrency=3)
            return execution, [outstanding, run.max_concurrency], str(ended.value)

    execution, (outstanding, limit), refused = anyio.run(main)
    assert execution.status == "SUCCEEDED"
    assert (outstanding, limit) == (3, 1)
    [run] = execution.map_runs
    assert (run.tolerated_failure_count, run.execution_counts["failed"]) == (1, 1)
    assert execution.output[1:] == [{"ok": 2}, {"ok": 3}, {"ok": 4}]
    assert refused == f"map run {run.map_run_arn} is not in progress"


def _jsonata_get(input_type: str, key: str, **config: Any) -> dict[str, Any]:
    return {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {
            "InputType": input_type,
            "MaxItems": "{% $states.input.limit %}",
            **config,
        },
        "Arguments": {"Bucket": BUCKET, "Key": "{% $states.input.prefix & '" + key + "' %}"},
    }


def _jsonata_map(reader: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    machine = _map(
        reader,
        ItemSelector={
            "n": "{% $number($states.context.Map.Item.Value.n) %}",
            "at": "{% $states.context.Map.Item.Index %}",
        },
        MaxConcurrency="{% $states.input.workers %}",
        ToleratedFailureCount="{% $states.input.tolerate %}",
        ResultWriter={
            "Resource": "arn:aws:states:::s3:putObject",
            "Arguments": {"Bucket": BUCKET, "Prefix": "{% 'out/' & $states.input.prefix %}"},
            "WriterConfig": {"OutputType": "JSON", "Transformation": "COMPACT"},
        },
        Assign={"written": "{% $states.result.ResultWriterDetails.Key %}"},
        Output={"run": "{% $states.result.MapRunArn %}", "limit": "{% $states.input.limit %}"},
        **extra,
    )
    machine["QueryLanguage"] = "JSONata"
    return machine


def _exported(s3: Any, manifest_key: str) -> dict[str, list[Any]]:
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=manifest_key)["Body"].read())
    found: dict[str, list[Any]] = {}
    for group, files in manifest["ResultFiles"].items():
        for entry in files:
            found[group] = json.loads(s3.get_object(Bucket=BUCKET, Key=entry["Key"])["Body"].read())
    return found


@pytest.mark.parametrize("input_type", ["JSON", "JSONL", "CSV", "PARQUET"])
def test_a_jsonata_distributed_map_over_each_reader_format(s3: Any, input_type: str) -> None:
    rows = [{"n": n} for n in range(1, 8)]
    if input_type == "JSON":
        body = json.dumps(rows).encode()
    elif input_type == "JSONL":
        body = "\n".join(json.dumps(row) for row in rows).encode()
    elif input_type == "CSV":
        body = ("n\n" + "".join(f"{row['n']}\n" for row in rows)).encode()
    else:
        body = _parquet_bytes({"n": [row["n"] for row in rows]})
    s3.put_object(Bucket=BUCKET, Key="in/jobs", Body=body)
    machine = _jsonata_map(_jsonata_get(input_type, "jobs"))
    data = {"prefix": "in/", "limit": 6, "workers": 2, "tolerate": 2}
    execution = _run(machine, data, handler=_picky)
    assert execution.status == "SUCCEEDED", execution.cause
    arn = execution.output["run"]
    assert execution.output == {"run": arn, "limit": 6}
    manifest_key = f"out/in/{arn.rsplit(':', 1)[-1]}/manifest.json"
    [exit_event] = [e for e in execution.history if e.type == "MapStateExited"]
    assert exit_event.details["assignedVariables"] == {"written": json.dumps(manifest_key)}
    exported = _exported(s3, manifest_key)
    assert sorted(exported["SUCCEEDED"], key=lambda r: r["ok"]) == [
        {"ok": 1},
        {"ok": 2},
        {"ok": 4},
        {"ok": 5},
    ]
    failed = sorted(json.loads(r["Input"])["n"] for r in exported["FAILED"])
    assert failed == [3, 6]  # MaxItems 6: item 7 is never read
    [map_run] = execution.map_runs
    assert (map_run.max_concurrency, map_run.tolerated_failure_count) == (2, 2)
    assert map_run.item_counts["total"] == 6


def test_a_jsonata_distributed_map_past_its_tolerance_fails(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="in/jobs", Body=json.dumps([{"n": n} for n in range(1, 8)]))
    machine = _jsonata_map(_jsonata_get("JSON", "jobs"))
    data = {"prefix": "in/", "limit": 7, "workers": 1, "tolerate": 1}
    execution = _run(machine, data, handler=_picky)
    assert (execution.status, execution.error) == (
        "FAILED",
        "States.ExceedToleratedFailureThreshold",
    )


def test_a_jsonata_distributed_map_over_its_items_with_batches() -> None:
    machine = _map(
        Items="{% $states.input.orders[$ > 1] %}",
        ItemSelector={"n": "{% $states.context.Map.Item.Value %}"},
        ItemBatcher={
            "MaxItemsPerBatch": "{% $states.input.per %}",
            "BatchInput": {"tag": "{% $states.input.tag %}"},
        },
        Output={"batches": "{% $count($states.result) %}", "last": "{% $states.result[-1] %}"},
    )
    machine["States"]["Fan"]["QueryLanguage"] = "JSONata"
    execution = _run(machine, {"orders": [1, 2, 3, 4], "per": 2, "tag": "t"})
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output == {
        "batches": 2,
        "last": {"BatchInput": {"tag": "t"}, "Items": [{"n": 4}]},
    }


def test_a_jsonata_distributed_map_expression_of_the_wrong_type_is_a_query_error() -> None:
    machine = _map(Items="{% $states.input.orders %}", MaxConcurrency="{% 'two' %}")
    machine["QueryLanguage"] = "JSONata"
    execution = _run(machine, {"orders": [1]})
    assert execution.error == "States.QueryEvaluationError"
    assert execution.cause.endswith(
        "The JSONata expression ''two'' specified for the field 'MaxConcurrency' returned an "
        "unexpected result type. Expected 'integer', but was 'string' for value: \"two\""
    )


def test_jsonpath_only_distributed_fields_are_refused_in_jsonata() -> None:
    machine = _map(
        _get("JSON", "jobs.json", MaxItemsPath="$.limit"),
        ItemBatcher={"MaxItemsPerBatchPath": "$.per"},
    )
    machine["QueryLanguage"] = "JSONata"
    with pytest.raises(engine.DefinitionError) as raised:
        _run(machine)
    assert sorted(d.location for d in raised.value.diagnostics) == [
        "/States/Fan/ItemBatcher/MaxItemsPerBatchPath",
        "/States/Fan/ItemReader/Parameters",
        "/States/Fan/ItemReader/ReaderConfig/MaxItemsPath",
    ]


def test_items_pointer_reads_the_array_inside_an_object(s3: Any) -> None:
    document = {"meta": {"count": 3}, "data": {"a/b": [{"n": 1}, {"n": 2}, {"n": 3}]}}
    s3.put_object(Bucket=BUCKET, Key="wrapped.json", Body=json.dumps(document))
    execution = _run(_map(_get("JSON", "wrapped.json", ItemsPointer="/data/a~1b")))
    assert execution.output == [{"n": 1}, {"n": 2}, {"n": 3}]
    missing = _run(_map(_get("JSON", "wrapped.json", ItemsPointer="/data/none")))
    assert (missing.error, missing.cause) == (
        "States.ItemReaderFailed",
        "The ItemsPointer '/data/none' does not point to a value in the file.",
    )
    not_array = _run(_map(_get("JSON", "wrapped.json", ItemsPointer="/meta")))
    assert (not_array.error, not_array.cause) == (
        "States.ItemReaderFailed",
        "Attempting to map over non-iterable node.",
    )
    with pytest.raises(engine.DefinitionError) as raised:
        _run(_map(_get("JSONL", "wrapped.json", ItemsPointer="/data")))
    [diagnostic] = raised.value.diagnostics
    assert diagnostic.location == "/States/Fan/ItemReader/ReaderConfig/ItemsPointer"


def _parquet_bytes(columns: dict[str, list[Any]], row_group_size: int | None = None) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink, row_group_size=row_group_size)
    return sink.getvalue()


def test_parquet_rows_become_objects_across_row_groups(s3: Any) -> None:
    import datetime

    body = _parquet_bytes(
        {
            "id": [1, 2, 3],
            "name": ["a", "b", None],
            "price": [1.5, 2.0, 3.25],
            "day": [datetime.date(2024, 1, d) for d in (1, 2, 3)],
        },
        row_group_size=2,
    )
    s3.put_object(Bucket=BUCKET, Key="rows.parquet", Body=body)
    execution = _run(_map(_get("PARQUET", "rows.parquet")))
    assert execution.output == [
        {"id": 1, "name": "a", "price": 1.5, "day": "2024-01-01"},
        {"id": 2, "name": "b", "price": 2.0, "day": "2024-01-02"},
        {"id": 3, "name": None, "price": 3.25, "day": "2024-01-03"},
    ]
    s3.put_object(Bucket=BUCKET, Key="bad.parquet", Body=b"not parquet")
    bad = _run(_map(_get("PARQUET", "bad.parquet")))
    assert bad.error == "States.ItemReaderFailed"
    assert bad.cause.startswith("The Parquet file could not be read: ")


def test_without_pyarrow_parquet_is_refused_with_the_install_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("engine.distributed.checks.parquet_available", lambda: False)
    with pytest.raises(engine.DefinitionError) as raised:
        _run(_map(_get("PARQUET", "rows.parquet")))
    [diagnostic] = raised.value.diagnostics
    assert diagnostic.location == "/States/Fan/ItemReader/ReaderConfig/InputType"
    assert "pip install 'saga-statemachine[parquet]'" in diagnostic.message


def test_athena_manifest_reads_each_listed_data_file(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="athena/part-1.gz", Body=gzip.compress(b'{"n":1}\n{"n":2}\n'))
    s3.put_object(Bucket=BUCKET, Key="athena/part-2", Body=b'{"n":3}\n')
    manifest = f"s3://{BUCKET}/athena/part-1.gz\ns3://{BUCKET}/athena/part-2\n"
    s3.put_object(Bucket=BUCKET, Key="athena/run-manifest.csv", Body=manifest.encode())
    reader = _get("JSONL", "athena/run-manifest.csv", ManifestType="ATHENA_DATA")
    execution = _run(_map(reader))
    assert execution.output == [{"n": 1}, {"n": 2}, {"n": 3}]
    s3.put_object(Bucket=BUCKET, Key="athena/p-1", Body=_parquet_bytes({"n": [4, 5]}))
    s3.put_object(Bucket=BUCKET, Key="athena/p-manifest.csv", Body=b"s3://data/athena/p-1\n")
    reader = _get("PARQUET", "athena/p-manifest.csv", ManifestType="ATHENA_DATA")
    assert _run(_map(reader)).output == [{"n": 4}, {"n": 5}]
    s3.put_object(Bucket=BUCKET, Key="athena/bad-manifest.csv", Body=b"athena/p-1\n")
    reader = _get("PARQUET", "athena/bad-manifest.csv", ManifestType="ATHENA_DATA")
    bad = _run(_map(reader))
    assert (bad.error, bad.cause) == (
        "States.ItemReaderFailed",
        "Line 1 of the Athena manifest is not an s3:// object URI.",
    )
    with pytest.raises(engine.DefinitionError) as raised:
        _run(_map(_get("JSON", "athena/run-manifest.csv", ManifestType="ATHENA_DATA")))
    [diagnostic] = raised.value.diagnostics
    assert diagnostic.location == "/States/Fan/ItemReader/ReaderConfig/InputType"


def test_a_failing_jsonata_item_selector_over_s3_is_recorded_and_fails_the_map(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="rows.json", Body=json.dumps([{"n": 1}, {"m": 2}]))
    machine = _map(
        {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSON"},
            "Arguments": {"Bucket": BUCKET, "Key": "rows.json"},
        },
        ItemSelector="{% $states.context.Map.Item.Value.n %}",
    )
    machine["QueryLanguage"] = "JSONata"
    execution = _run(machine)
    assert execution.error == "States.QueryEvaluationError"
    assert execution.cause == (
        "An error occurred while executing the state 'Fan' (entered at the event id #2). "
        "The JSONata expression '$states.context.Map.Item.Value.n' specified for the field "
        "'ItemSelector' returned nothing (undefined)."
    )
    types = [event.type for event in execution.history]
    assert types[-5:] == [
        "MapRunStarted",
        "EvaluationFailed",
        "MapRunFailed",
        "MapStateFailed",
        "ExecutionFailed",
    ]
