"""``counterunit eval SUITE``: the parser; the work is in firmware/tools/eval_presence.py."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def _cmd_eval(args: argparse.Namespace) -> int:
    if args.suite == "hall":
        from firmware.tools.eval_hall import cmd_eval_hall

        return cmd_eval_hall(args)
    if args.suite == "items":
        from firmware.tools.eval_items import cmd_eval_items

        return cmd_eval_items(args)
    from firmware.tools.eval_presence import cmd_eval

    return cmd_eval(args)


def add_parser(sub: Any) -> None:
    """``counterunit eval presence [--dir DIR] [--case NAME ...] [--config FILE]``."""
    p = sub.add_parser("eval", help="score replay output against truth files (docs/eval.md)")
    p.add_argument("suite", choices=["presence", "hall", "items"])
    p.add_argument("--dir", type=Path, help="folder of videos and truth files (default: temp)")
    p.add_argument("--case", action="append", default=[], help="only this case (repeatable)")
    p.add_argument("--config", type=Path, help="unit.toml to replay with (as for replay)")
    p.add_argument("--no-compose", action="store_true",
                   help="score only the truth files already in --dir")
    p.set_defaults(func=_cmd_eval)
