"""Distributed Map locally: item readers over S3, batching, result writing, map-run records."""

from __future__ import annotations

from engine.distributed.map_run import MapChild, MapRun, MapRunLog

__all__ = ["MapChild", "MapRun", "MapRunLog"]
