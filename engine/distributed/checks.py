"""What a distributed Map needs that the local engine cannot give: located, before the run."""

from __future__ import annotations

from typing import Any

from engine.distributed.readers import INPUT_TYPES, READER_RESOURCES
from engine.distributed.writer import PUT_OBJECT
from engine.model import MapState

__all__ = ["distributed_map_problems"]


def _resource(spec: Any) -> Any:
    return spec.get("Resource") if isinstance(spec, dict) else None


def distributed_map_problems(
    name: str, state: MapState, query_language: str = "JSONPath"
) -> list[tuple[tuple[str, ...], str]]:
    """``(path under the state, message)`` for each part of ``state`` that cannot run locally.

    ``query_language`` is the state's own or the machine's.
    """
    problems: list[tuple[tuple[str, ...], str]] = []
    if query_language == "JSONata":
        problems.append(
            (
                ("ItemProcessor", "ProcessorConfig", "Mode"),
                f"Map state '{name}': a distributed Map in JSONata mode is not run locally (its "
                "Items, ItemReader Arguments and JSONata-valued fields are not evaluated by the "
                'local distributed Map); give the state "QueryLanguage": "JSONPath" or use an '
                "inline Map",
            )
        )
    reader = state.item_reader
    if reader is not None:
        resource = _resource(reader)
        if resource not in READER_RESOURCES:
            problems.append(
                (
                    ("ItemReader", "Resource"),
                    f"Map state '{name}': ItemReader resource {resource!r} is not one of "
                    f"{', '.join(READER_RESOURCES)}",
                )
            )
        config = reader.get("ReaderConfig") or {}
        input_type = config.get("InputType")
        if resource == READER_RESOURCES[1] and input_type not in INPUT_TYPES:
            why = (
                "reading Parquet needs a Parquet decoder the local engine does not ship"
                if input_type == "PARQUET"
                else f"InputType must be one of {', '.join(INPUT_TYPES)}"
            )
            problems.append(
                (
                    ("ItemReader", "ReaderConfig", "InputType"),
                    f"Map state '{name}': ItemReader InputType {input_type!r} is not supported "
                    f"locally: {why}",
                )
            )
        if input_type == "CSV" and config.get("CSVHeaderLocation") == "GIVEN":
            headers = config.get("CSVHeaders")
            if not isinstance(headers, list) or not headers:
                problems.append(
                    (
                        ("ItemReader", "ReaderConfig", "CSVHeaders"),
                        f"Map state '{name}': CSVHeaderLocation GIVEN needs a non-empty "
                        "CSVHeaders list",
                    )
                )
        if config.get("ManifestType") not in (None, "S3_INVENTORY"):
            problems.append(
                (
                    ("ItemReader", "ReaderConfig", "ManifestType"),
                    f"Map state '{name}': ManifestType {config.get('ManifestType')!r} is not "
                    "supported locally (S3 Inventory manifests are)",
                )
            )
    batcher = state.item_batcher
    if batcher is not None and not any(
        key in batcher
        for key in (
            "MaxItemsPerBatch",
            "MaxItemsPerBatchPath",
            "MaxInputBytesPerBatch",
            "MaxInputBytesPerBatchPath",
        )
    ):
        problems.append(
            (
                ("ItemBatcher",),
                f"Map state '{name}': ItemBatcher needs MaxItemsPerBatch or "
                "MaxInputBytesPerBatch (or their Path forms)",
            )
        )
    writer = state.result_writer
    if writer is not None and "Resource" in writer and writer["Resource"] != PUT_OBJECT:
        problems.append(
            (
                ("ResultWriter", "Resource"),
                f"Map state '{name}': ResultWriter resource {writer['Resource']!r} is not "
                f"{PUT_OBJECT}",
            )
        )
    return problems
