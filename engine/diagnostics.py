"""Diagnostics reported by loading and validating a definition, and the error that carries them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["DefinitionError", "Diagnostic", "Severity"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding: a stable ``code``, a JSON-pointer ``location``, and what was expected."""

    code: str
    location: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.severity}: {self.location or '/'}: {self.code}: {self.message}"


class DefinitionError(ValueError):
    """A definition that cannot be used; ``diagnostics`` holds every problem found."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        errors = [d for d in self.diagnostics if d.severity == "error"]
        head = "; ".join(str(d) for d in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"invalid state machine definition: {head}{more}")

    @property
    def errors(self) -> list[Diagnostic]:
        """The diagnostics of severity ``error``."""
        return [d for d in self.diagnostics if d.severity == "error"]
