"""Distributed Map throughput and memory: items streamed from S3 (moto), results written back.

Each item is a child execution of a one-state processor. The reader streams a JSON Lines
object and the ResultWriter spools to a temporary file, so peak memory should not grow with
the number of items: the figure reports the peak for the full size and for a tenth of it.
"""

from __future__ import annotations

import gc
import os
import time
import tracemalloc
from typing import Any

import anyio

from engine import LocalEngine, VirtualClock

__all__ = ["bench_distributed_map"]

_BUCKET = "benchmark-items"


def _jsonata_machine() -> dict[str, Any]:
    """The same Map in JSONata: ``Arguments`` and ``{% … %}`` expressions."""
    machine = _machine()
    fan = machine["States"]["Fan"]
    fan["ItemReader"]["Arguments"] = {"Bucket": _BUCKET, "Key": "{% $states.input.key %}"}
    del fan["ItemReader"]["Parameters"]
    fan["ResultWriter"]["Arguments"] = fan["ResultWriter"].pop("Parameters")
    fan["ItemProcessor"]["States"]["Price"] = {
        "Type": "Pass",
        "Output": {"id": "{% $states.input.id %}", "total": "{% $states.input.n + 1 %}"},
        "End": True,
    }
    return {"QueryLanguage": "JSONata", **machine}


def _machine() -> dict[str, Any]:
    return {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSONL"},
                    "Parameters": {"Bucket": _BUCKET, "Key.$": "$.key"},
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                    "StartAt": "Price",
                    "States": {
                        "Price": {
                            "Type": "Pass",
                            "Parameters": {"id.$": "$.id", "total.$": "States.MathAdd($.n, 1)"},
                            "End": True,
                        }
                    },
                },
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket": _BUCKET, "Prefix": "results"},
                    "WriterConfig": {"Transformation": "COMPACT", "OutputType": "JSONL"},
                },
                "End": True,
            }
        },
    }


async def _run(key: str, jsonata: bool = False) -> float:
    machine = _jsonata_machine() if jsonata else _machine()
    async with LocalEngine(clock=VirtualClock()) as engine:
        started = time.perf_counter()
        execution = await engine.execute(machine, {"key": key})
        elapsed = time.perf_counter() - started
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    return elapsed


def _peak_mib(key: str) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        anyio.run(_run, key)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / (1024 * 1024)


def bench_distributed_map(quick: bool, runs: int) -> list[Any]:
    """Items per second (JSONPath, and JSONata on a tenth of the items) and peak traced memory
    (MiB) of a distributed Map over S3 JSON Lines."""
    from benchmarks.run import Figure

    try:
        import boto3
        from moto import mock_aws
    except ImportError:
        return []
    count = 2_000 if quick else 100_000
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "benchmark")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "benchmark")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=_BUCKET)
        for size in (count, count // 10):
            body = "\n".join(f'{{"id": {i}, "n": {i % 100}}}' for i in range(size))
            client.put_object(Bucket=_BUCKET, Key=f"items-{size}.jsonl", Body=body.encode())
        samples = [count / anyio.run(_run, f"items-{count}.jsonl") for _ in range(runs)]
        tenth = count // 10
        jsonata = [tenth / anyio.run(_run, f"items-{tenth}.jsonl", True) for _ in range(runs)]
        peak = _peak_mib(f"items-{count}.jsonl")
        peak_tenth = _peak_mib(f"items-{count // 10}.jsonl")
    return [
        Figure(
            f"distributed Map over S3, {count:,} items",
            "items/s",
            samples,
            extra={"items": count},
        ),
        Figure(
            f"distributed Map over S3 in JSONata, {count // 10:,} items",
            "items/s",
            jsonata,
            extra={"items": count // 10},
        ),
        Figure(
            f"distributed Map peak memory, {count:,} items",
            "MiB",
            [peak],
            target=f"~ {peak_tenth:.1f} (at {count // 10:,} items)",
            extra={"items": count, "peak_mib_tenth": peak_tenth},
        ),
    ]
