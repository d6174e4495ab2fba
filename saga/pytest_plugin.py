"""Pytest plugin: fixtures for running sagas and state machines locally."""
