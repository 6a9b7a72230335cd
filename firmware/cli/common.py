"""What every ``counterunit`` subcommand does the same way with a bad unit.toml."""

from __future__ import annotations

import sys

from firmware.config.unit import ConfigError


def print_config_error(exc: ConfigError) -> None:
    """Every problem on its own line, as ``key.path: rule (got value)``, on stderr."""
    print(f"config error in {exc.source}:", file=sys.stderr)
    for p in exc.problems:
        print(f"  {p}", file=sys.stderr)
