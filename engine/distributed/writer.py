"""``ResultWriter``: where a distributed Map's child results go, and in which shape.

Without a ``ResultWriter`` the Map's output is the children's outputs in item order (a child
that did not succeed appears as its execution record). With ``Resource:
arn:aws:states:::s3:putObject`` the records are exported as AWS exports them: one file per
status (``SUCCEEDED_0.json``, ``FAILED_0.json``) under ``Prefix/<map run id>/`` and a
``manifest.json`` listing them, and the Map's output is ``{MapRunArn, ResultWriterDetails}``.
``WriterConfig.Transformation`` (``NONE`` records, ``COMPACT`` outputs, ``FLATTEN`` outputs
with arrays flattened) and ``OutputType`` (``JSON`` array, ``JSONL`` lines) shape them.
Records are spooled to temporary files, so a run of any size holds none of them in memory.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from typing import IO, Any, Final

from engine.errors import StatesError
from engine.integrations._boto import client_for
from engine.paths import compact_json

__all__ = ["PUT_OBJECT", "RESULT_WRITER_FAILED", "ResultSink"]

PUT_OBJECT: Final = "arn:aws:states:::s3:putObject"
RESULT_WRITER_FAILED: Final = "States.ResultWriterFailed"
_SPOOL_IN_MEMORY: Final = 1024 * 1024


def _group(status: str) -> str:
    return "SUCCEEDED" if status == "SUCCEEDED" else "FAILED"


class _Spool:
    """One result file being written: a JSON array or JSON lines, in a temporary file."""

    def __init__(self, lines: bool) -> None:
        self.lines = lines
        # Closed by ResultSink.close (after the upload, or when the run fails).
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
        self.count = 0

    def add(self, value: Any) -> None:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        if self.lines:
            self.file.write(text.encode("utf-8") + b"\n")
        else:
            self.file.write((b"," if self.count else b"[") + text.encode("utf-8"))
        self.count += 1

    def finish(self) -> int:
        if not self.lines:
            self.file.write(b"]" if self.count else b"[]")
        size = self.file.tell()
        self.file.seek(0)
        return size


class ResultSink:
    """Collects child results and produces the Map's output (exporting when asked)."""

    def __init__(self, writer: Mapping[str, Any] | None, parameters: Mapping[str, Any]) -> None:
        config = writer.get("WriterConfig") if writer else None
        config = config if isinstance(config, Mapping) else {}
        self.export = bool(writer) and writer is not None and "Resource" in writer
        default = "NONE" if self.export else "COMPACT"
        self.transformation = str(config.get("Transformation", default))
        self.lines = str(config.get("OutputType", "JSON")) == "JSONL"
        self.bucket = parameters.get("Bucket")
        prefix = str(parameters.get("Prefix", "") or "")
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self._results: dict[int, Any] = {}
        self._spools: dict[str, _Spool] = {}

    def add(self, index: int, record: Mapping[str, Any], output: Any) -> None:
        """One child ended: ``record`` its execution record, ``output`` its parsed output."""
        status = str(record["Status"])
        if status != "SUCCEEDED" or self.transformation == "NONE":
            values: list[Any] = [dict(record)]
        elif self.transformation == "FLATTEN" and isinstance(output, list):
            values = list(output)
        else:
            values = [output]
        if not self.export:
            self._results[index] = values
            return
        group = _group(status)
        spool = self._spools.get(group)
        if spool is None:
            spool = self._spools[group] = _Spool(self.lines)
        for value in values:
            spool.add(value)

    def output(self, map_run_arn: str) -> Any:
        """The Map's output: the results in item order, or the export's location."""
        if not self.export:
            ordered: list[Any] = []
            for index in sorted(self._results):
                ordered.extend(self._results[index])
            return ordered
        return self._write(map_run_arn)

    def close(self) -> None:
        """Drop what is spooled (after a failed run)."""
        for spool in self._spools.values():
            spool.file.close()
        self._spools.clear()
        self._results.clear()

    def _write(self, map_run_arn: str) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        if not isinstance(self.bucket, str) or not self.bucket:
            raise StatesError(RESULT_WRITER_FAILED, "The ResultWriter needs a string Bucket.")
        run_id = map_run_arn.rsplit(":", 1)[-1]
        base = f"{self.prefix}{run_id}/"
        extension = "jsonl" if self.lines else "json"
        files: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
        client = client_for("s3")
        try:
            for group, spool in sorted(self._spools.items()):
                size = spool.finish()
                key = f"{base}{group}_0.{extension}"
                client.put_object(Bucket=self.bucket, Key=key, Body=spool.file)
                files[group].append({"Key": key, "Size": size})
            manifest = {
                "DestinationBucket": self.bucket,
                "MapRunArn": map_run_arn,
                "ResultFiles": files,
            }
            key = f"{base}manifest.json"
            client.put_object(Bucket=self.bucket, Key=key, Body=compact_json(manifest).encode())
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise StatesError(
                RESULT_WRITER_FAILED,
                f"{error.get('Message') or error.get('Code')} (Service: S3, Bucket: {self.bucket})",
            ) from None
        except BotoCoreError as exc:
            raise StatesError(RESULT_WRITER_FAILED, f"{type(exc).__name__}: {exc}") from None
        finally:
            self.close()
        return {
            "MapRunArn": map_run_arn,
            "ResultWriterDetails": {"Bucket": self.bucket, "Key": key},
        }
