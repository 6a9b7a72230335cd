"""The ``counterunit hq copy`` subcommand (see :mod:`hq.copy.run`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _copy(args: argparse.Namespace) -> int:
    from rich.console import Console

    from hq.storage.db.migrate import SchemaError

    from .rows import CopyError
    from .run import copy, render

    try:
        report = copy(args.source, args.to, stop_after=args.stop_after,
                      show=Console(stderr=True))
    except (CopyError, SchemaError) as exc:
        print(f"counterunit hq copy: {exc}", file=sys.stderr)
        return 2
    for line in render(report):
        print(line)
    if report.ok:
        print("copy complete: every table's rows and every clip's sha256 match")
        return 0
    if report.stopped_early:
        print(f"stopped after {args.stop_after} rows and clips (--stop-after); run the same "
              "command again to go on", file=sys.stderr)
        return 3
    print("copy NOT complete: see the lines marked above; fix and run it again "
          "(what is copied stays)", file=sys.stderr)
    return 1


def add_copy_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``copy`` on ``counterunit hq``'s subcommands."""
    p = sub.add_parser("copy", help="copy an embedded HQ (SQLite + clips folder) into the "
                                    "PostgreSQL database and clip store an hq.toml names")
    p.add_argument("--from", dest="source", type=Path, required=True, metavar="DATA_DIR",
                   help="the embedded HQ's data folder (events.db, users.db, clips/)")
    p.add_argument("--to", type=Path, required=True, metavar="CONFIG",
                   help="hq.toml of the target (its folder is the target's data folder); "
                        "run `counterunit hq migrate` on it first")
    p.add_argument("--stop-after", type=int, metavar="N",
                   help="stop once N rows and clips are newly copied (copy in stages)")
    p.set_defaults(func=_copy)
