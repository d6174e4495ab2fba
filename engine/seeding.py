"""The seed of an execution's random draws: given, or derived from the execution's name.

Retry jitter, ``States.MathRandom``/``States.UUID`` and task tokens draw from sources seeded
here, so the same name, input and seed give the same history. The derivation hashes the name
with SHA-256 (Python's ``hash()`` is salted per process, so it would not repeat across runs).
"""

from __future__ import annotations

import hashlib

__all__ = ["execution_seed", "seed_from_name"]

_SEED_BYTES = 8


def seed_from_name(name: str) -> int:
    """A 64-bit seed from an execution name: the first 8 bytes of its SHA-256, big-endian."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:_SEED_BYTES], "big")


def execution_seed(name: str, seed: int | None) -> int:
    """``seed`` when given, else the seed derived from ``name``; TypeError unless an int."""
    if seed is None:
        return seed_from_name(name)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed: expected an int, got {type(seed).__name__}")
    return seed
