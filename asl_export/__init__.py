"""Rendering state machines as ASL JSON and the deployment artefacts around them."""

__all__: list[str] = []
