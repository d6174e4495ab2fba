"""A local AWS Step Functions: the Amazon States Language as data, and an engine that runs it."""

from engine.diagnostics import DefinitionError, Diagnostic
from engine.loader import load, substitute
from engine.model import StateMachine

__all__ = ["DefinitionError", "Diagnostic", "StateMachine", "load", "substitute"]
