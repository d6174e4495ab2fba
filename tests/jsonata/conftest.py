"""Fixtures of the JSONata tests: the reference implementation, shared by the module's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.jsonata.reference import ReferenceJsonata


@pytest.fixture(scope="module")
def reference() -> Iterator[ReferenceJsonata]:
    """The reference JSONata implementation in a node process."""
    process = ReferenceJsonata()
    yield process
    process.close()
