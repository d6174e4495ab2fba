"""Parquet items for a distributed Map (``InputType: PARQUET``), read with ``pyarrow``.

``pyarrow`` is the optional extra ``parquet`` (``pip install 'saga-statemachine[parquet]'``).
The object is copied to a temporary file in chunks (Parquet keeps its index at the end, so it
cannot be read front to back) and its rows are decoded a batch at a time: memory holds one
batch, not the file. Each row is a JSON object keyed by column name; values that JSON has no
type for become text (timestamps and dates in ISO 8601, decimals as numbers, bytes as UTF-8).
"""

from __future__ import annotations

import base64
import datetime
import decimal
import importlib.util
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any, Final

__all__ = ["PARQUET_INSTALL_HINT", "ParquetUnreadable", "parquet_available", "parquet_rows"]

PARQUET_INSTALL_HINT: Final = "pip install 'saga-statemachine[parquet]'"
_BATCH_ROWS: Final = 1024
_COPY_CHUNK: Final = 1024 * 1024


class ParquetUnreadable(ValueError):
    """The object is not a Parquet file pyarrow can read (the message says why)."""


def parquet_available() -> bool:
    """Whether ``pyarrow`` (the Parquet decoder) is installed."""
    return importlib.util.find_spec("pyarrow") is not None


def _json_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    return value


def parquet_rows(body: Any) -> Iterator[dict[str, Any]]:
    """The rows of the Parquet object streamed by ``body``, one JSON object each."""
    import pyarrow.parquet as pq

    with tempfile.TemporaryFile() as copy:
        shutil.copyfileobj(body, copy, _COPY_CHUNK)
        copy.seek(0)
        try:
            parquet = pq.ParquetFile(copy)
            batches = parquet.iter_batches(batch_size=_BATCH_ROWS)
            for batch in batches:
                for row in batch.to_pylist():
                    yield {str(key): _json_value(value) for key, value in row.items()}
        except (OSError, ValueError) as exc:  # pyarrow.ArrowInvalid is a ValueError
            raise ParquetUnreadable(f"The Parquet file could not be read: {exc}") from None
