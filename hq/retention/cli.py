"""``counterunit hq retention ...`` (periods, legal holds) and ``counterunit hq retention-run``."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import actions, holds
from .holds import HoldError
from .periods import load
from .policy import PeriodError, effective
from .run import RetentionRun
from .store import RetentionStore

_CLI_ROLE, _CLI_CLIENT = "cli", "cli"


def _days(text: str) -> int | None:
    """``N`` days, or ``forever`` / ``inherit`` (no value: for ever, or as the default)."""
    if text in ("forever", "inherit"):
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days, 'forever' "
                                         "or 'inherit'") from None


def _open(data: Path) -> Any:
    from hq.api.deps import HQDeps

    return HQDeps.open(data)


def _close(deps: Any) -> None:
    for s in (deps.events, deps.clips, deps.audit):
        s.close()


def _with_deps(fn: Callable[[Any, argparse.Namespace], int]
               ) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        deps = _open(args.data)
        try:
            return fn(deps, args)
        except (PeriodError, HoldError) as exc:
            print(f"refused: {exc}", file=sys.stderr)
            return 2
        finally:
            _close(deps)
    return run


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _show(deps: Any, args: argparse.Namespace) -> int:
    store = RetentionStore(deps.events)
    with store.reading() as conn:
        p = load(conn)
        branches = [r[0] for r in conn.execute(
            "SELECT branch_id FROM org_branches ORDER BY branch_id")]

    def text(days: int | None) -> str:
        return "for ever" if days is None else f"{days} days"

    print(f"default: clips {text(p.default.clip_days)}, events {text(p.default.event_days)}")
    for b in sorted({*branches, *p.branches}):
        e = effective(p, b)
        mark = " (override)" if b in p.branches else ""
        print(f"{b}: clips {text(e.clip_days)}, events {text(e.event_days)}{mark}")
    return 0


def _set(deps: Any, args: argparse.Namespace) -> int:
    actions.set_period(RetentionStore(deps.events), deps.audit, args.branch,
                       clip_days=args.clip_days, event_days=args.event_days, by=args.by,
                       role=_CLI_ROLE, client=_CLI_CLIENT, now=_now())
    return _show(deps, args)


def _clear(deps: Any, args: argparse.Namespace) -> int:
    gone = actions.clear_period(RetentionStore(deps.events), deps.audit, args.branch,
                                by=args.by, role=_CLI_ROLE, client=_CLI_CLIENT, now=_now())
    print("cleared" if gone else "nothing to clear")
    return 0 if gone else 1


def _hold(deps: Any, args: argparse.Namespace) -> int:
    h = actions.set_hold(RetentionStore(deps.events), deps.audit, args.unit, args.txn,
                         reason=args.reason, by=args.by, role=_CLI_ROLE, client=_CLI_CLIENT,
                         now=_now())
    print(f"held {h.unit_id}/{h.txn_id} (hold {h.hold_id})")
    return 0


def _release(deps: Any, args: argparse.Namespace) -> int:
    h = actions.release_hold(RetentionStore(deps.events), deps.audit, args.unit, args.txn,
                             note=args.note, by=args.by, role=_CLI_ROLE, client=_CLI_CLIENT,
                             now=_now())
    print(f"released {h.unit_id}/{h.txn_id} (hold {h.hold_id})")
    return 0


def _holds(deps: Any, args: argparse.Namespace) -> int:
    with RetentionStore(deps.events).reading() as conn:
        rows = holds.history(conn, open_only=not args.all)
    for h in rows:
        state = (f"released {h.released_utc:%Y-%m-%d %H:%M}Z by {h.released_by}"
                 if h.released_utc else "open")
        print(f"{h.unit_id}/{h.txn_id}\theld {h.held_utc:%Y-%m-%d %H:%M}Z by {h.held_by}"
              f"\t{state}\t{h.reason}")
    return 0


def _run(deps: Any, args: argparse.Namespace) -> int:
    report = RetentionRun(RetentionStore(deps.events), deps.clips, deps.audit)(
        _now(), dry_run=args.dry_run)
    for unit, clip in report.clips:
        print(f"clip {unit}/{clip}")
    for unit, txn in report.transactions:
        print(f"transaction {unit}/{txn}")
    print(report.summary())
    return 1 if report.failed else 0


def add_retention_commands(sub: Any) -> None:
    """``retention {show,set,clear,hold,release,holds}`` and ``retention-run``."""
    p = sub.add_parser("retention", help="retention periods and legal holds")
    rsub = p.add_subparsers(dest="retention_command", required=True)
    me = getpass.getuser()

    def cmd(name: str, help_: str, fn: Callable[[Any, argparse.Namespace], int]
            ) -> argparse.ArgumentParser:
        q = rsub.add_parser(name, help=help_)
        q.add_argument("--data", type=Path, required=True, help="HQ data folder")
        q.set_defaults(func=_with_deps(fn))
        return q

    cmd("show", "the periods in force per branch", _show)
    q = cmd("set", "set the organisation default, or a branch's override", _set)
    q.add_argument("--branch", help="the branch to override (default: the organisation)")
    q.add_argument("--clip-days", type=_days, required=True,
                   help="days clips are kept: N (1..36500), 'forever' or 'inherit'")
    q.add_argument("--event-days", type=_days, required=True,
                   help="days events and transactions are kept: N, 'forever' or 'inherit'")
    q.add_argument("--by", default=me, help="who makes the change (audit log)")
    q = cmd("clear", "remove the default or a branch's override", _clear)
    q.add_argument("--branch")
    q.add_argument("--by", default=me)
    for name, help_, fn in (("hold", "place a legal hold on a transaction", _hold),
                            ("release", "release a transaction's legal hold", _release)):
        q = cmd(name, help_, fn)
        q.add_argument("--unit", required=True)
        q.add_argument("--txn", required=True)
        q.add_argument("--by", default=me, help="who holds or releases it (audit log)")
        if name == "hold":
            q.add_argument("--reason", required=True, help="the dispute, e.g. a case number")
        else:
            q.add_argument("--note", required=True, help="why the hold ends")
    q = cmd("holds", "list open legal holds", _holds)
    q.add_argument("--all", action="store_true", help="released holds too")
    p = sub.add_parser("retention-run", help="delete what is past its retention period now")
    p.add_argument("--data", type=Path, required=True, help="HQ data folder")
    p.add_argument("--dry-run", action="store_true", help="list, delete nothing")
    p.set_defaults(func=_with_deps(_run))
