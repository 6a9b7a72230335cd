"""``counterunit status [--config FILE] [--json]``: the technician's one screen.

``add_parsers(sub)`` hooks it into the main parser; ``python -m
firmware.cli.status ARGS`` runs it on its own. Exit codes: 0 the daemon looks
alive (status fresh), 1 it does not, 2 the config is invalid.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from firmware.cli.common import print_config_error
from firmware.config.base import DEFAULT_CONFIG_PATH


def cmd_status(args: argparse.Namespace) -> int:
    """Run ``counterunit status`` for parsed ``args``; returns the exit code."""
    from rich.console import Console

    from firmware.config.unit import ConfigError, load_config
    from firmware.status.render import render, to_json
    from firmware.status.report import EXIT_CONFIG, build_report

    config: Path = args.config or DEFAULT_CONFIG_PATH
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        print_config_error(exc)
        return EXIT_CONFIG
    report = build_report(cfg, n_events=args.events)
    if args.json:
        print(to_json(report))
    else:
        # At least 100 columns even when piped (a ticket, a log), so lines do not fold.
        console = Console(width=max(100, Console().width)) if not sys.stdout.isatty() else Console()
        render(report, console)
    return report.exit_code


def _events(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = -1
    if not 0 <= n <= 100:
        raise argparse.ArgumentTypeError(f"wants a whole number from 0 to 100, got {text!r}")
    return n


def add_parsers(sub: Any) -> None:
    """Add ``status`` to a subparsers object."""
    p = sub.add_parser("status", help="what the unit is doing now: staff, presence, "
                       "transaction, sync backlog, disk, clock, versions; exit 1 if the "
                       "daemon is not alive")
    p.add_argument("--config", type=Path, default=None,
                   help=f"unit.toml (default {DEFAULT_CONFIG_PATH})")
    p.add_argument("--json", action="store_true", help="the same facts as one JSON document")
    p.add_argument("--events", type=_events, default=8, metavar="N",
                   help="how many recent events to show (default 8)")
    p.set_defaults(func=cmd_status)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="counterunit")
    add_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
