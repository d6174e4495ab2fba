"""Sagas in Python: steps, compensations and policies compiled to Step Functions state machines."""

__all__: list[str] = []
