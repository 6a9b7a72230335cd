"""``counterunit hq import|import-template|org-set``: the organisation from a terminal."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Literal

from hq.org.authoring.store import AUTHORING, OrgStore
from hq.org.importing.files import KINDS, ImportRefused, import_file, template_bytes
from hq.org.records.errors import OrgError, OrgInvalid


def _store(data: Path) -> OrgStore:
    if not data.is_dir():
        raise SystemExit(f"{data}: not an HQ data folder")
    return OrgStore(data / "events.db")


def _import(args: argparse.Namespace) -> int:
    store = _store(args.data)
    try:
        result = import_file(store, args.kind, args.file.read_bytes(), args.file.name)
    except ImportRefused as exc:
        print(f"{args.file}: nothing imported; {len(exc.errors)} problem(s):", file=sys.stderr)
        for e in exc.errors:
            print(f"  {e.text()}", file=sys.stderr)
        return 1
    finally:
        store.close()
    changed = ", ".join(f"{v.window_id} v{v.version}" for v in result.versions) or "none"
    print(f"{result.rows} {args.kind} row(s) imported; new config versions: {changed}")
    return 0


def template_format(out: Path, given: str | None) -> Literal["csv", "xlsx"]:
    """The template's format: ``--format`` if given, else the file's extension; a file
    named ``.csv`` holding XLSX bytes would only confuse the person filling it in."""
    suffix = out.suffix.lower().lstrip(".")
    if given is None:
        if suffix == "csv":
            return "csv"
        if suffix == "xlsx":
            return "xlsx"
        raise ValueError(f"--out {out}: name it .csv or .xlsx, or pass --format")
    if suffix in ("csv", "xlsx") and suffix != given:
        raise ValueError(f"--out {out} ends .{suffix} but --format is {given}")
    return "csv" if given == "csv" else "xlsx"


def _template(args: argparse.Namespace) -> int:
    try:
        fmt = template_format(args.out, args.format)
    except ValueError as exc:
        print(f"no template written: {exc}", file=sys.stderr)
        return 2
    args.out.write_bytes(template_bytes(args.kind, fmt))
    print(f"{args.kind} template written to {args.out}")
    return 0


def _org_set(args: argparse.Namespace) -> int:
    store = _store(args.data)
    try:
        data: Any = json.loads(args.json)
        ident, versions = store.author(args.kind, data)
    except ValueError as exc:
        problems = exc.problems if isinstance(exc, OrgInvalid) else [f"not JSON: {exc}"]
        print(f"{args.kind} not stored: " + "; ".join(problems), file=sys.stderr)
        return 1
    except OrgError as exc:
        print(f"{args.kind} not stored: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    changed = ", ".join(f"{v.window_id} v{v.version}" for v in versions) or "none"
    print(f"{args.kind} {ident} stored; new config versions: {changed}")
    return 0


def add_org_commands(sub: Any) -> None:
    """Add the organisation's subcommands to ``counterunit hq``'s parser."""
    p = sub.add_parser("import", help="import a staff, shifts, leave or periods file (CSV or XLSX)")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("--data", type=Path, required=True, help="HQ data folder")
    p.add_argument("file", type=Path)
    p.set_defaults(func=_import)
    p = sub.add_parser("import-template", help="write a blank import file to fill in")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("--format", choices=["csv", "xlsx"], default=None,
                   help="csv or xlsx (default: from the --out file's extension)")
    p.add_argument("--out", type=Path, required=True, help="the file to write, .csv or .xlsx")
    p.set_defaults(func=_template)
    p = sub.add_parser("org-set", help="add or change one branch, hall, window, staff member, "
                                       "shift, template, leave, rules, zone or the settings")
    p.add_argument("kind", choices=sorted(AUTHORING))
    p.add_argument("--data", type=Path, required=True, help="HQ data folder")
    p.add_argument("json", help='the record as JSON, e.g. \'{"branch_id": "B1", "name": "Main"}\'')
    p.set_defaults(func=_org_set)
