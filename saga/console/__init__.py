"""``saga console``: executions in the browser, over an execution store (Starlette + uvicorn)."""

from saga.console.app import create_app, execution_summary

__all__ = ["create_app", "execution_summary"]
