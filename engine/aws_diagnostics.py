"""The validator's findings in the codes and words AWS's API uses for the same problems.

``saga validate`` and the engine name problems with their own codes; the API answers
(``InvalidDefinition`` and ``ValidateStateMachineDefinition``) use AWS's where AWS's answer is
known: a definition without ``States``/``StartAt`` is ``SCHEMA_VALIDATION_FAILED`` "These fields
are required: [...]" at ``/``, a state going back to JSONPath in a JSONata machine is
``SCHEMA_VALIDATION_FAILED`` at the state, a Parallel without branches is
``SCHEMA_VALIDATION_FAILED`` "Value cannot be empty" at its ``Branches``, an unknown ``Type``
``SCHEMA_VALIDATION_FAILED`` naming the types. Other findings pass
unchanged. (Used by ``saga serve`` and by TestState.)
"""

from __future__ import annotations

from typing import Any

from engine.diagnostics import Diagnostic

__all__ = ["aws_diagnostics"]

_SCHEMA = "SCHEMA_VALIDATION_FAILED"
_TOP_LEVEL_REQUIRED = ("States", "StartAt")
"""The fields a definition must have, in the order AWS lists the missing ones."""


def aws_diagnostics(diagnostics: list[Diagnostic], document: Any) -> list[Diagnostic]:
    """``diagnostics`` with those AWS words differently rewritten as AWS writes them."""
    absent = [
        name for name in _TOP_LEVEL_REQUIRED if isinstance(document, dict) and name not in document
    ]
    out: list[Diagnostic] = []
    named = False
    for diagnostic in diagnostics:
        if diagnostic.code == "MISSING_FIELD" and diagnostic.location.lstrip("/") in absent:
            if not named:  # one finding names them all
                out.append(
                    Diagnostic(_SCHEMA, "/", f"These fields are required: [{', '.join(absent)}]")
                )
                named = True
        elif diagnostic.code == "QUERY_LANGUAGE_DOWNGRADE":
            out.append(
                Diagnostic(
                    _SCHEMA,
                    diagnostic.location.removesuffix("/QueryLanguage"),
                    "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state "
                    "machine",
                    diagnostic.severity,
                )
            )
        elif diagnostic.code == "UNKNOWN_STATE_TYPE":
            out.append(
                Diagnostic(
                    _SCHEMA,
                    diagnostic.location,
                    "The field 'Type' should have one of these values: "
                    "[Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]",
                    diagnostic.severity,
                )
            )
        elif diagnostic.code == "EMPTY_ARRAY" and diagnostic.location.endswith("/Branches"):
            out.append(
                Diagnostic(
                    _SCHEMA, diagnostic.location, "Value cannot be empty", diagnostic.severity
                )
            )
        else:
            out.append(diagnostic)
    return out
