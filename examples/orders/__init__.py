"""A small order saga: the README's example, kept runnable and tested."""
