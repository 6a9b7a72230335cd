"""The ``counterunit`` command line: one module per group of subcommands."""

from firmware.cli.app import main

__all__ = ["main"]
