"""Installer subcommands: ``counterunit doctor`` and ``counterunit zones snapshot``.

``add_parsers(sub)`` hooks them into the main parser; ``python -m
firmware.cli.install ARGS`` runs them on their own (the same parsing and exit
codes). Exit codes: 0 ok, 1 a check failed / the camera or models failed,
2 the config is invalid.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from firmware.cli.common import print_config_error
from firmware.config.base import DEFAULT_CONFIG_PATH

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


def _cmd_doctor(args: argparse.Namespace) -> int:
    from firmware.doctor.report import doctor

    return doctor(args.config, as_json=args.json)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"wants a whole number from 1 to 100, got {text!r}")
    return value


def _cmd_zones_snapshot(args: argparse.Namespace) -> int:
    from firmware.config.unit import ConfigError, load_config
    from firmware.tools.zones_snapshot import SnapshotError, snapshot_command
    from hal.camera.base import CameraError
    from vision.models.manifest import ModelError
    from vision.params import ParamsError

    config: Path = args.config or DEFAULT_CONFIG_PATH
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        print_config_error(exc)
        return EXIT_CONFIG
    try:
        lines = snapshot_command(cfg, args.out, args.frames)
    except CameraError as exc:
        print(f"camera error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except (SnapshotError, ModelError, ParamsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print("\n".join(lines))
    return EXIT_OK


def add_parsers(sub: Any) -> None:
    """Add ``doctor`` and ``zones snapshot`` to a subparsers object."""
    p = sub.add_parser("doctor", help="check cameras, devices, models, data dir, clock, HQ "
                       "identity and config; exit 1 if anything failed")
    p.add_argument("--config", type=Path, default=None,
                   help=f"unit.toml (default {DEFAULT_CONFIG_PATH})")
    p.add_argument("--json", action="store_true", help="the report as one JSON document")
    p.set_defaults(func=_cmd_doctor)

    p = sub.add_parser("zones", help="zone set-up tools")
    zones = p.add_subparsers(dest="zones_command", required=True, metavar="snapshot")
    s = zones.add_parser("snapshot", help="a PNG of the camera view with the zones and what "
                         "the detectors see in each")
    s.add_argument("--config", type=Path, default=None,
                   help=f"unit.toml (default {DEFAULT_CONFIG_PATH})")
    s.add_argument("--out", type=Path, required=True, help="PNG file to write")
    s.add_argument("--frames", type=_positive_int, default=5,
                   help="frames to grab before scoring the last (default 5)")
    s.set_defaults(func=_cmd_zones_snapshot)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry with the same subcommands and exit codes as ``counterunit``."""
    parser = argparse.ArgumentParser(prog="counterunit", description=__doc__)
    add_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    return code


_main_for_tests = main

if __name__ == "__main__":
    sys.exit(main())
