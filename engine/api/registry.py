"""The API server's resources: state machines, activities, tags and per-execution settings.

Kept in memory and, when the server has a durable store, written through to a table of the
same SQLite file (one committed row per change), so a restarted server knows every state
machine, activity and tag again.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

__all__ = ["ActivityRecord", "AliasRecord", "MachineRecord", "Registry", "VersionRecord"]

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS api_resources (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
"""

Kind = Literal["machine", "activity", "tags", "execution", "version", "alias"]


@dataclass
class MachineRecord:
    """One state machine as ``DescribeStateMachine`` tells it."""

    name: str
    arn: str
    definition: str
    role_arn: str
    type: str
    creation_posix: float
    revision_id: str
    description: str = ""
    update_posix: float | None = None
    logging_configuration: dict[str, Any] = field(default_factory=dict)
    tracing_configuration: dict[str, Any] = field(default_factory=dict)
    versions_published: int = 0
    """The last version number given out (numbers are never reused, as on AWS)."""
    encryption_configuration: dict[str, Any] = field(default_factory=dict)
    """As given; none means AWS's default, an AWS-owned key."""


@dataclass
class VersionRecord:
    """One published version of a state machine: its revision, frozen."""

    machine: str
    number: int
    arn: str
    definition: str
    role_arn: str
    type: str
    revision_id: str
    creation_posix: float
    description: str = ""
    logging_configuration: dict[str, Any] = field(default_factory=dict)
    tracing_configuration: dict[str, Any] = field(default_factory=dict)
    encryption_configuration: dict[str, Any] = field(default_factory=dict)


@dataclass
class AliasRecord:
    """One alias of a state machine: 1-2 versions, each with a weight (summing to 100)."""

    machine: str
    name: str
    arn: str
    routing: list[dict[str, Any]]
    creation_posix: float
    update_posix: float
    description: str = ""


@dataclass
class ActivityRecord:
    """One activity."""

    name: str
    arn: str
    creation_posix: float
    encryption_configuration: dict[str, Any] = field(default_factory=dict)


class Registry:
    """State machines, activities, tags and execution settings, optionally persisted."""

    def __init__(self, path: Path | None = None) -> None:
        self.machines: dict[str, MachineRecord] = {}
        self.activities: dict[str, ActivityRecord] = {}
        self.tags: dict[str, dict[str, str]] = {}
        self.execution_settings: dict[str, dict[str, Any]] = {}
        self.versions: dict[str, VersionRecord] = {}
        self.aliases: dict[str, AliasRecord] = {}
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if path is not None:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA busy_timeout = 10000")
            self._db.executescript(_SCHEMA)
            self._load()

    def _load(self) -> None:
        assert self._db is not None
        for kind, key, body in self._db.execute("SELECT kind, key, body FROM api_resources"):
            data = json.loads(body)
            if kind == "machine":
                self.machines[key] = MachineRecord(**data)
            elif kind == "activity":
                self.activities[key] = ActivityRecord(**data)
            elif kind == "tags":
                self.tags[key] = data
            elif kind == "execution":
                self.execution_settings[key] = data
            elif kind == "version":
                self.versions[key] = VersionRecord(**data)
            elif kind == "alias":
                self.aliases[key] = AliasRecord(**data)

    def _write(self, kind: Kind, key: str, body: Any) -> None:
        if self._db is None:
            return
        with self._lock:
            if body is None:
                self._db.execute(
                    "DELETE FROM api_resources WHERE kind = ? AND key = ?", (kind, key)
                )
            else:
                self._db.execute(
                    "INSERT OR REPLACE INTO api_resources (kind, key, body) VALUES (?, ?, ?)",
                    (kind, key, json.dumps(body, separators=(",", ":"))),
                )

    def put_machine(self, record: MachineRecord) -> None:
        """Add or replace a state machine."""
        self.machines[record.name] = record
        self._write("machine", record.name, asdict(record))

    def drop_machine(self, name: str) -> None:
        """Forget a state machine, its tags, versions and aliases."""
        record = self.machines.pop(name, None)
        self._write("machine", name, None)
        if record is not None:
            self.set_tags(record.arn, {})
        for version in self.machine_versions(name):
            self.drop_version(version.arn)
        for alias in self.machine_aliases(name):
            self.drop_alias(alias.arn)

    def put_version(self, record: VersionRecord) -> None:
        """Add a published version."""
        self.versions[record.arn] = record
        self._write("version", record.arn, asdict(record))

    def drop_version(self, arn: str) -> None:
        """Forget a version."""
        if self.versions.pop(arn, None) is not None:
            self._write("version", arn, None)

    def machine_versions(self, machine: str) -> list[VersionRecord]:
        """The versions of ``machine``, newest first."""
        found = [v for v in self.versions.values() if v.machine == machine]
        return sorted(found, key=lambda v: v.number, reverse=True)

    def put_alias(self, record: AliasRecord) -> None:
        """Add or replace an alias."""
        self.aliases[record.arn] = record
        self._write("alias", record.arn, asdict(record))

    def drop_alias(self, arn: str) -> None:
        """Forget an alias."""
        if self.aliases.pop(arn, None) is not None:
            self._write("alias", arn, None)

    def machine_aliases(self, machine: str) -> list[AliasRecord]:
        """The aliases of ``machine``, oldest first."""
        found = [a for a in self.aliases.values() if a.machine == machine]
        return sorted(found, key=lambda a: (a.creation_posix, a.name))

    def put_activity(self, record: ActivityRecord) -> None:
        """Add an activity."""
        self.activities[record.name] = record
        self._write("activity", record.name, asdict(record))

    def drop_activity(self, name: str) -> None:
        """Forget an activity and its tags."""
        record = self.activities.pop(name, None)
        self._write("activity", name, None)
        if record is not None:
            self.set_tags(record.arn, {})

    def set_tags(self, arn: str, tags: dict[str, str]) -> None:
        """Replace the tags of a resource (none: forget them)."""
        if tags:
            self.tags[arn] = dict(tags)
            self._write("tags", arn, tags)
        elif self.tags.pop(arn, None) is not None:
            self._write("tags", arn, None)

    def set_execution_settings(self, execution_arn: str, settings: dict[str, Any]) -> None:
        """Keep what an execution was started with beyond its input (e.g. a mock test case)."""
        self.execution_settings[execution_arn] = dict(settings)
        self._write("execution", execution_arn, settings)

    def sorted_machines(self) -> Iterator[MachineRecord]:
        """The state machines by creation time."""
        yield from sorted(self.machines.values(), key=lambda m: (m.creation_posix, m.name))

    def close(self) -> None:
        """Release the database connection."""
        if self._db is not None:
            self._db.close()
            self._db = None
