"""``ItemReader``: the items of a distributed Map, streamed from S3 one at a time.

``arn:aws:states:::s3:listObjectsV2`` yields each object (``Etag``, ``Key``, ``LastModified``
in epoch seconds, ``Size``, ``StorageClass``); ``arn:aws:states:::s3:getObject`` reads one
object as ``ReaderConfig.InputType`` says: ``JSON`` (an array), ``JSONL`` (a value a line),
``CSV`` (a row an item, as strings keyed by the headers from the first row or
``CSVHeaders``; missing fields are ``""``, extra ones dropped, as AWS recorded) or
``MANIFEST`` (an S3 Inventory ``manifest.json``: the rows of its CSV files keyed by its
``fileSchema``) or ``PARQUET`` (a row an object, :mod:`engine.distributed.parquet`).
``ItemsPointer`` (JSON) names the array inside a JSON object by JSON Pointer
(:mod:`engine.distributed.json_stream`). ``ManifestType: ATHENA_DATA`` reads an Athena
``UNLOAD`` manifest (an ``s3://`` URI a line) and yields the items of each data file it lists,
in ``InputType`` ``CSV``, ``JSONL`` or ``PARQUET`` (gzip-compressed ``.gz`` files are
decompressed). Nothing is read into memory whole: bodies are read in chunks, listings page by
page. Failures are ``States.ItemReaderFailed`` with AWS's recorded causes.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
from collections.abc import Iterator, Mapping
from typing import Any, Final

from engine.distributed.json_stream import ITEM_READER_FAILED, json_array_items
from engine.distributed.parquet import ParquetUnreadable, parquet_rows
from engine.errors import StatesError
from engine.integrations._boto import client_for

__all__ = [
    "ATHENA_INPUT_TYPES",
    "INPUT_TYPES",
    "ITEM_READER_FAILED",
    "READER_RESOURCES",
    "json_array_items",
    "read_items",
    "read_items_from_text",
]

LIST_OBJECTS: Final = "arn:aws:states:::s3:listObjectsV2"
GET_OBJECT: Final = "arn:aws:states:::s3:getObject"
READER_RESOURCES: Final = (LIST_OBJECTS, GET_OBJECT)
INPUT_TYPES: Final = ("CSV", "JSON", "JSONL", "MANIFEST", "PARQUET")
ATHENA_INPUT_TYPES: Final = ("CSV", "JSONL", "PARQUET")
_DELIMITERS: Final = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}
_CHUNK: Final = 64 * 1024


def _failed(cause: str) -> StatesError:
    return StatesError(ITEM_READER_FAILED, cause)


class _RawBody(io.RawIOBase):
    """A botocore streaming body as a raw byte stream (for text and gzip wrappers)."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._body.read(len(buffer))
        count = len(data)
        buffer[:count] = data
        return count


def _text(body: Any, *, gzipped: bool = False) -> io.TextIOWrapper:
    raw: Any = io.BufferedReader(_RawBody(body), _CHUNK)
    if gzipped:
        raw = gzip.GzipFile(fileobj=raw)
    return io.TextIOWrapper(raw, encoding="utf-8", newline="")


def _json_lines(text: io.TextIOBase) -> Iterator[Any]:
    for number, line in enumerate(text, start=1):
        if line.strip():
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise _failed(f"Line {number} is not valid JSON: {exc.msg}.") from None


def _csv_rows(
    text: io.TextIOBase, config: Mapping[str, Any], headers: list[str] | None = None
) -> Iterator[dict[str, str]]:
    delimiter = _DELIMITERS.get(str(config.get("CSVDelimiter", "COMMA")), ",")
    rows = csv.reader(text, delimiter=delimiter)
    if headers is None:
        if config.get("CSVHeaderLocation", "FIRST_ROW") == "GIVEN":
            headers = [str(header) for header in config.get("CSVHeaders") or []]
        else:
            headers = next(rows, [])
    if len(set(headers)) < len(headers):
        raise _failed("CSV headers cannot contain duplicates.")
    width = len(headers)
    for row in rows:
        if not row:
            continue
        yield {header: row[i] if i < len(row) else "" for i, header in enumerate(headers[:width])}


def _body(bucket: str, key: str, extra: Mapping[str, Any] | None = None) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = client_for("s3").get_object(Bucket=bucket, Key=key, **dict(extra or {}))
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise _failed(
            f"{error.get('Message') or error.get('Code')} (Service: S3, Error Code: "
            f"{error.get('Code')}, Bucket: {bucket}, Key: {key})"
        ) from None
    except BotoCoreError as exc:
        raise _failed(f"{type(exc).__name__}: {exc}") from None
    return response["Body"]


def _list_objects(parameters: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    from botocore.exceptions import BotoCoreError, ClientError

    client = client_for("s3")
    members = client.meta.service_model.operation_model("ListObjectsV2").input_shape.members
    request = {key: value for key, value in parameters.items() if key in members}
    try:
        for page in client.get_paginator("list_objects_v2").paginate(**request):
            for entry in page.get("Contents", []):
                yield {
                    "Etag": entry.get("ETag"),
                    "Key": entry.get("Key"),
                    "LastModified": int(entry["LastModified"].timestamp()),
                    "Size": entry.get("Size"),
                    "StorageClass": entry.get("StorageClass", "STANDARD"),
                }
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise _failed(f"{error.get('Message') or error.get('Code')} (Service: S3)") from None
    except BotoCoreError as exc:
        raise _failed(f"{type(exc).__name__}: {exc}") from None


def _manifest(bucket: str, key: str) -> Iterator[dict[str, str]]:
    """The rows of the CSV files an S3 Inventory manifest lists."""
    try:
        manifest = json.load(_text(_body(bucket, key)))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _failed("The manifest file is not valid JSON.") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        raise _failed("The manifest file has no 'files' list.")
    if str(manifest.get("fileFormat", "CSV")).upper() != "CSV":
        raise _failed("Only CSV inventory files are supported in a manifest.")
    schema = [column.strip() for column in str(manifest.get("fileSchema", "")).split(",")]
    destination = str(manifest.get("destinationBucket") or bucket).rsplit(":", 1)[-1]
    for entry in manifest["files"]:
        file_key = str(entry.get("key", "")) if isinstance(entry, dict) else ""
        text = _text(_body(destination, file_key), gzipped=file_key.endswith(".gz"))
        yield from _csv_rows(text, {}, headers=schema)


def _parquet(body: Any) -> Iterator[dict[str, Any]]:
    try:
        yield from parquet_rows(body)
    except ParquetUnreadable as exc:
        raise _failed(str(exc)) from None


def _object_items(
    bucket: str,
    key: str,
    config: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
    *,
    gzipped: bool = False,
) -> Iterator[Any]:
    """The items of one S3 object in ``config``'s ``InputType``."""
    input_type = str(config.get("InputType", "JSON"))
    body = _body(bucket, key, extra)
    if input_type == "PARQUET":
        return _parquet(body)
    text = _text(body, gzipped=gzipped)
    if input_type == "CSV":
        return _csv_rows(text, config)
    if input_type == "JSONL":
        return _json_lines(text)
    pointer = config.get("ItemsPointer")
    return json_array_items(text, None if pointer is None else str(pointer))


def _athena(bucket: str, key: str, config: Mapping[str, Any]) -> Iterator[Any]:
    """The items of the data files an Athena manifest lists (an ``s3://`` URI a line)."""
    for number, line in enumerate(_text(_body(bucket, key)), start=1):
        uri = line.strip()
        if not uri:
            continue
        location = uri.removeprefix("s3://")
        data_bucket, _, data_key = location.partition("/")
        if location == uri or not data_bucket or not data_key:
            raise _failed(f"Line {number} of the Athena manifest is not an s3:// object URI.")
        yield from _object_items(data_bucket, data_key, config, gzipped=data_key.endswith(".gz"))


def read_items(
    resource: str, parameters: Mapping[str, Any], config: Mapping[str, Any], max_items: int
) -> Iterator[Any]:
    """The items an ``ItemReader`` yields, at most ``max_items`` (0: no limit), lazily."""
    items: Iterator[Any]
    if resource == LIST_OBJECTS:
        items = _list_objects(parameters)
    else:
        bucket, key = parameters.get("Bucket"), parameters.get("Key")
        if not isinstance(bucket, str) or not isinstance(key, str):
            raise _failed("The ItemReader parameters need a string Bucket and Key.")
        extra = {k: v for k, v in parameters.items() if k in ("VersionId", "ExpectedBucketOwner")}
        if config.get("ManifestType") == "ATHENA_DATA":
            items = _athena(bucket, key, config)
        elif str(config.get("InputType")) == "MANIFEST":
            items = _manifest(bucket, key)
        else:
            items = _object_items(bucket, key, config, extra)
    return itertools.islice(items, max_items) if max_items else items


def read_items_from_text(
    resource: str, text: str, config: Mapping[str, Any], max_items: int
) -> Iterator[Any]:
    """The items an ``ItemReader`` yields from ``text``, its source's content as found there.

    ``s3:getObject`` reads it as ``ReaderConfig.InputType`` says (``JSON``, ``JSONL``, ``CSV``);
    ``s3:listObjectsV2`` reads it as a JSON array of the listed objects. A ``MANIFEST`` names
    other files, so its content alone holds no items: that is ``States.ItemReaderFailed``.
    """
    input_type = "JSON" if resource == LIST_OBJECTS else str(config.get("InputType", "JSON"))
    stream = io.StringIO(text, newline="")
    items: Iterator[Any]
    if input_type == "MANIFEST":
        raise _failed("A MANIFEST reader's data names other files; give their items instead.")
    if input_type == "CSV":
        items = _csv_rows(stream, config)
    elif input_type == "JSONL":
        items = _json_lines(stream)
    else:
        items = json_array_items(stream)
    return itertools.islice(items, max_items) if max_items else items
