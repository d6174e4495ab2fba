"""Validation of a whole definition: every problem, each with a code and a JSON-pointer location.

One module per concern: :mod:`~engine.validate.messages` (pydantic errors as diagnostics),
:mod:`~engine.validate.values`, :mod:`~engine.validate.error_handling` and
:mod:`~engine.validate.state_types` (the schema checks), :mod:`~engine.validate.jsonata`,
:mod:`~engine.validate.graph` (networkx: targets, scopes, reachability),
:mod:`~engine.validate.lints` (warnings) and :mod:`~engine.validate.codes` (the code catalogue).
The model knows nothing of its validator: importing this package installs
:func:`validate_machine` behind ``StateMachine.validate()``.
"""

from engine.model import install_machine_checker
from engine.validate.checker import validate_machine
from engine.validate.codes import CODES, PREDEFINED_ERRORS
from engine.validate.messages import diagnostics_from_validation_error

__all__ = ["CODES", "PREDEFINED_ERRORS", "diagnostics_from_validation_error", "validate_machine"]

install_machine_checker(validate_machine)
