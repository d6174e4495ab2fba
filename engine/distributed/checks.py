"""What a distributed Map needs that the local engine cannot give: located, before the run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.distributed.parquet import PARQUET_INSTALL_HINT, parquet_available
from engine.distributed.readers import ATHENA_INPUT_TYPES, INPUT_TYPES, READER_RESOURCES
from engine.distributed.writer import PUT_OBJECT
from engine.model import MapState

__all__ = ["distributed_map_problems"]


def _resource(spec: Any) -> Any:
    return spec.get("Resource") if isinstance(spec, dict) else None


def _reader_config_problems(
    name: str, config: Mapping[str, Any]
) -> list[tuple[tuple[str, ...], str]]:
    problems: list[tuple[tuple[str, ...], str]] = []
    where = ("ItemReader", "ReaderConfig")
    input_type = config.get("InputType")
    manifest = config.get("ManifestType")
    allowed = ATHENA_INPUT_TYPES if manifest == "ATHENA_DATA" else INPUT_TYPES
    if input_type not in allowed:
        kind = "with ManifestType ATHENA_DATA " if manifest == "ATHENA_DATA" else ""
        problems.append(
            (
                (*where, "InputType"),
                f"Map state '{name}': ItemReader InputType {input_type!r} {kind}is not one of "
                f"{', '.join(allowed)}",
            )
        )
    elif input_type == "PARQUET" and not parquet_available():
        problems.append(
            (
                (*where, "InputType"),
                f"Map state '{name}': reading Parquet needs the Parquet decoder pyarrow, which "
                f"is not installed: {PARQUET_INSTALL_HINT}",
            )
        )
    if input_type == "CSV" and config.get("CSVHeaderLocation") == "GIVEN":
        headers = config.get("CSVHeaders")
        if not isinstance(headers, list) or not headers:
            problems.append(
                (
                    (*where, "CSVHeaders"),
                    f"Map state '{name}': CSVHeaderLocation GIVEN needs a non-empty "
                    "CSVHeaders list",
                )
            )
    if manifest not in (None, "S3_INVENTORY", "ATHENA_DATA"):
        problems.append(
            (
                (*where, "ManifestType"),
                f"Map state '{name}': ManifestType {manifest!r} is not one of S3_INVENTORY, "
                "ATHENA_DATA",
            )
        )
    pointer = config.get("ItemsPointer")
    if pointer is not None and (input_type != "JSON" or not isinstance(pointer, str)):
        problems.append(
            (
                (*where, "ItemsPointer"),
                f"Map state '{name}': ItemsPointer must be a JSON Pointer string and needs "
                "InputType JSON",
            )
        )
    return problems


def distributed_map_problems(name: str, state: MapState) -> list[tuple[tuple[str, ...], str]]:
    """``(path under the state, message)`` for each part of ``state`` that cannot run locally."""
    problems: list[tuple[tuple[str, ...], str]] = []
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
        if resource == READER_RESOURCES[1]:
            problems += _reader_config_problems(name, config)
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
