"""``counterunit hq ...``: run the reference HQ and issue enrollment codes."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from pathlib import Path

from pydantic import ValidationError

from hq.accounts.cli import add_user_commands
from hq.alerts import trial
from hq.api.deps import HQDeps
from hq.config import HQConfigError
from hq.server.settings import HQServerSettings
from hq.storage.db.backend import open_data
from hq.storage.db.migrate import SchemaError
from hq.storage.db.migrate import check as check_schema
from hq.storage.sqlite import private_dir


def _server_credentials(deps: HQDeps, root: Path, hosts: list[str]) -> tuple[Path, Path]:
    """HQ's own server certificate from its CA, made once and kept."""
    cert, key = root / "server" / "server.pem", root / "server" / "server.key"
    private_dir(root / "server")
    if not cert.exists():
        written = deps.ca.issue_server_cert(hosts).write(root / "server")
        cert, key = written
    return cert, key


def _add_server_options(p: argparse.ArgumentParser) -> None:
    """One option per field of HQServerSettings (``--header-timeout-s`` ...)."""
    for name, f in HQServerSettings.model_fields.items():
        default = "derived from RLIMIT_NOFILE" if f.default is None else f.default
        p.add_argument("--" + name.replace("_", "-"), dest=f"server_{name}", default=None,
                       metavar="N", help=f"{f.description} (default: {default})")


def _server_settings(args: argparse.Namespace) -> HQServerSettings | None:
    given = {name: getattr(args, f"server_{name}") for name in HQServerSettings.model_fields
             if getattr(args, f"server_{name}") is not None}
    try:
        return HQServerSettings.model_validate(given)
    except ValidationError as exc:
        for e in exc.errors(include_url=False):
            where = ".".join(str(p) for p in e["loc"])
            print(f"--{where.replace('_', '-')}: {e['msg']}", file=sys.stderr)
        return None


def _serve(args: argparse.Namespace) -> int:
    import socket

    from hq.server.run import serve

    settings = _server_settings(args)
    if settings is None:
        return 2
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s")
    if args.listen_fd is not None:  # a worker of the supervisor below
        serve(args.data, args.host, args.port, args.cert, args.key, settings,
              sock=socket.socket(fileno=args.listen_fd))
        return 0
    deps = HQDeps.open(args.data)
    cert, key = (args.cert, args.key) if args.cert else _server_credentials(
        deps, args.data, args.hostname)
    for store in (deps.events, deps.clips, deps.audit):
        store.close()
    print(f"HQ CA certificate for units to pin: {deps.ca.directory / 'ca.pem'}", flush=True)
    if args.workers > 1:
        from hq.server.workers import supervise

        return supervise(args.workers, lambda i, fd: _worker_argv(args, cert, key, fd),
                         args.host, args.port, settings.backlog)
    serve(args.data, args.host, args.port, cert, key, settings)
    return 0


def _worker_argv(args: argparse.Namespace, cert: Path, key: Path, fd: int) -> list[str]:
    """One worker's command line: this serve's options, the credentials, the socket."""
    from hq.server.workers import python_argv

    argv = ["serve", "--data", str(args.data), "--host", args.host, "--port", str(args.port),
            "--cert", str(cert), "--key", str(key), "--listen-fd", str(fd)]
    for name in HQServerSettings.model_fields:
        if getattr(args, f"server_{name}") is not None:
            argv += ["--" + name.replace("_", "-"), str(getattr(args, f"server_{name}"))]
    return python_argv(*argv)


def _enroll_code(args: argparse.Namespace) -> int:
    from hq.pki.enrollment import EnrollmentError, issue_for_window

    deps = HQDeps.open(args.data)
    ttl = dt.timedelta(hours=args.ttl_hours)
    try:
        code = (issue_for_window(deps.codes, deps.org, args.unit, args.window, ttl)
                if args.window else deps.codes.issue(args.unit, ttl))
    except EnrollmentError as exc:
        print(f"no code issued: {exc}", file=sys.stderr)
        return 1
    finally:
        deps.events.close()
    print(code)
    return 0


def _revoke(args: argparse.Namespace) -> int:
    """Revoke every certificate of a unit: its next request is refused (403)."""
    from hq.pki.ca import CertificateAuthority

    ca = CertificateAuthority.load(args.data / "ca")
    serials = ca.revoke_unit(args.unit, args.reason)
    print(f"unit {args.unit}: {len(serials)} certificate(s) revoked")
    return 0 if serials else 1


def _migrate(args: argparse.Namespace) -> int:
    """Bring the data folder's database (hq.toml: SQLite or PostgreSQL) to this HQ's schema."""
    from hq.storage.db.migrate import upgrade

    config = open_data(args.data, args.config, check_schema=False)
    before, after = upgrade(args.data, config.database)
    kind = config.database.type
    if before == after:
        print(f"{kind} schema already at revision {after}")
    else:
        print(f"{kind} schema migrated from revision {before or '(none)'} to {after}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """``counterunit hq`` and every subcommand."""
    parser = argparse.ArgumentParser(prog="counterunit hq", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="run HQ (HTTPS, unit client certificates)")
    p.add_argument("--data", type=Path, required=True, help="HQ data folder")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8443)
    p.add_argument("--hostname", action="append", default=["localhost", "127.0.0.1"],
                   help="names in HQ's server certificate (repeatable)")
    p.add_argument("--cert", type=Path, help="server certificate (default: issued by HQ's CA)")
    p.add_argument("--key", type=Path, help="server key, with --cert")
    p.add_argument("--workers", type=int, default=1, choices=range(1, 65), metavar="N",
                   help="worker processes serving the port (1-64; default 1): a supervisor "
                   "restarts a dead one and stops all on SIGTERM")
    p.add_argument("--listen-fd", type=int, help=argparse.SUPPRESS)  # supervisor -> worker
    _add_server_options(p)
    p.set_defaults(func=_serve)
    p = sub.add_parser("enroll-code", help="issue a one-time enrollment code for a unit")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--unit", required=True, help="the unit id the code is for")
    p.add_argument("--window", help="bind the unit to this window now (hq org)")
    p.add_argument("--ttl-hours", type=float, default=72.0)
    p.set_defaults(func=_enroll_code)
    from hq.org.cli import add_org_commands

    add_org_commands(sub)
    p = sub.add_parser("revoke", help="revoke a unit (lost, stolen or decommissioned)")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--unit", required=True)
    p.add_argument("--reason", default="revoked by operator")
    p.set_defaults(func=_revoke)
    trial.add_command(sub)
    add_user_commands(sub)
    from hq.reports.cli import add_parsers as add_report_parsers

    add_report_parsers(sub)
    p = sub.add_parser("migrate", help="apply schema revisions to HQ's database (hq.toml)")
    p.add_argument("--data", type=Path, required=True, help="HQ data folder")
    p.add_argument("--config", type=Path, help="hq.toml to use (default: DATA/hq.toml)")
    p.set_defaults(func=_migrate)
    from hq.retention.cli import add_retention_commands

    add_retention_commands(sub)
    from hq.copy.cli import add_copy_command

    add_copy_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        data = getattr(args, "data", None)
        if isinstance(data, Path) and args.command != "migrate":
            # Every command on a data folder follows its hq.toml and refuses a schema it
            # does not know; a new SQLite folder (seed-demo) is left for its command.
            config = open_data(data, check_schema=False)
            if config.database.type == "postgresql" or (data / "events.db").exists():
                check_schema(data, config.database)
        return int(args.func(args))
    except (HQConfigError, SchemaError) as exc:  # named key or revision, and the fix
        print(f"counterunit hq {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
