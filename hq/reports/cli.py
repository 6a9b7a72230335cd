"""``counterunit hq report`` and ``counterunit hq seed-demo`` (added by hq/cli.py)."""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import sys
from pathlib import Path

from hq.storage.scope import Scope


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def resolve_scope(conn: sqlite3.Connection, text: str | None) -> Scope:
    """``all``/``branch:ID``/``hall:ID``, or a bare branch or hall id; ValueError if unknown."""
    if not text or text == "all":
        return Scope.everything()
    if ":" in text:
        scope = Scope.parse(text)
    elif conn.execute("SELECT 1 FROM org_branches WHERE branch_id = ?", [text]).fetchone():
        scope = Scope("branch", text)
    elif conn.execute("SELECT 1 FROM org_halls WHERE hall_id = ?", [text]).fetchone():
        scope = Scope("hall", text)
    else:
        raise ValueError(f"--scope {text!r} is neither a branch nor a hall id")
    table = "org_branches" if scope.level == "branch" else "org_halls"
    column = "branch_id" if scope.level == "branch" else "hall_id"
    if not conn.execute(f"SELECT 1 FROM {table} WHERE {column} = ?", [scope.node_id]).fetchone():
        raise ValueError(f"--scope {text!r}: no such {scope.level}")
    return scope


def _open(data: Path) -> sqlite3.Connection:
    from hq.storage.sqlite import connect

    path = data / "events.db"
    if not path.exists():
        raise ValueError(f"no HQ database at {path}")
    return connect(path)


def _report(args: argparse.Namespace) -> int:
    from .exports import render
    from .exports.tables import build

    today = dt.datetime.now(dt.UTC).date()
    first = args.date_from or today.replace(day=1)
    last = args.date_to or today
    try:
        conn = _open(args.data)
        try:
            table = build(conn, args.kind, resolve_scope(conn, args.scope), first, last)
        finally:
            conn.close()
        content = render(table, args.format, args.lang)
    except ValueError as exc:
        print(f"cannot make the report: {exc}", file=sys.stderr)
        return 2
    tmp = args.out.with_name(args.out.name + ".part")
    tmp.write_bytes(content)
    tmp.replace(args.out)
    flag = " (data may be incomplete)" if table.meta.incomplete else ""
    print(f"{args.kind} report, {len(table.rows)} rows, {first}..{last}, "
          f"{table.meta.scope} -> {args.out}{flag}")
    return 0


def _seed(args: argparse.Namespace) -> int:
    from .demo.seed import SeedSpec, seed

    try:
        spec = SeedSpec(branches=args.branches, halls=args.halls, windows=args.windows,
                        days=args.days, seed=args.seed, txn_per_day=args.txn_per_day,
                        end=args.end)
    except ValueError as exc:
        print(f"cannot seed: {exc}", file=sys.stderr)
        return 2
    if (args.data / "events.db").exists():
        print(f"cannot seed: {args.data / 'events.db'} exists; seed an empty data folder",
              file=sys.stderr)
        return 2
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("seeding (unit-months stored)", total=None)
        counts = seed(args.data, spec,
                      lambda done, total: bar.update(task, completed=done, total=total))
    print(f"seeded {counts['windows']} windows, {counts['shifts']} shifts, "
          f"{counts['events']} events into {args.data}")
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``report`` and ``seed-demo`` to ``counterunit hq``."""
    from .exports import FORMATS
    from .exports.labels import LANGS
    from .exports.tables import KINDS

    p = sub.add_parser("report", help="export a report (staff, window, branch, attendance, "
                                      "events) as CSV, XLSX or PDF")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("--data", type=Path, required=True, help="HQ data folder")
    p.add_argument("--from", dest="date_from", type=_date,
                   help="first branch-local day (default: the 1st of this month)")
    p.add_argument("--to", dest="date_to", type=_date, help="last day (default: today)")
    p.add_argument("--scope", help="all, branch:ID, hall:ID or a bare branch/hall id")
    p.add_argument("--format", choices=FORMATS, required=True)
    p.add_argument("--lang", choices=LANGS, default="zh-CN")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=_report)
    p = sub.add_parser("seed-demo", help="fill an empty HQ with reproducible demo activity")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--branches", type=int, default=2)
    p.add_argument("--halls", type=int, default=2, help="halls per branch")
    p.add_argument("--windows", type=int, default=6, help="windows per hall")
    p.add_argument("--days", type=int, default=60)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--txn-per-day", type=float, default=40.0,
                   help="mean customers per window and working day")
    p.add_argument("--end", type=_date, help="last day seeded (default: yesterday)")
    p.set_defaults(func=_seed)
