"""Evaluation suites scored against hand-written truth (``counterunit eval``)."""
