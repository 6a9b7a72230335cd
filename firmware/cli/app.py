"""``counterunit`` command line: run, sync, status, doctor, replay, demo, simulators, hq."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from firmware.cli.common import print_config_error
from firmware.config.unit import DEFAULT_CONFIG_PATH, ConfigError, load_config

log = logging.getLogger("counterunit")

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


def _cmd_check_config(args: argparse.Namespace) -> int:
    try:
        cfg = load_config(args.file)
    except ConfigError as exc:
        print(f"{exc.source}: {len(exc.problems)} problem(s)", file=sys.stderr)
        for p in exc.problems:
            print(f"  {p}", file=sys.stderr)
        return EXIT_CONFIG
    zones = ", ".join(f"{n}=({z.x0},{z.y0},{z.x1},{z.y1})" for n, z in cfg.zones.items())
    if cfg.hall is not None:  # a hall unit counts per area; the counter zones are unused
        zones = "none; hall areas " + ", ".join(
            f"{n} (crowd at {a.raise_at}, clear at {a.threshold_clear()})"
            for n, a in cfg.hall.areas.items())
    print(f"{args.file}: OK (unit {cfg.unit.unit_id}, camera {cfg.camera.type}, zones {zones})")
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    from firmware.system.logsetup import setup_logging
    from firmware.wiring.runner import open_unit

    cfg = load_config(args.config)
    setup_logging(cfg.logging.level)
    if cfg.role == "hall":
        from firmware.hall.unit import open_hall_unit

        hall = open_hall_unit(cfg, media_time=False)
        signal.signal(signal.SIGTERM, lambda *_: hall.request_stop())
        signal.signal(signal.SIGINT, lambda *_: hall.request_stop())
        log.info("counterunit %s starting as a hall unit", cfg.unit.unit_id)
        try:
            hall.run()
        finally:
            hall.store.close()
        return EXIT_OK
    unit = open_unit(cfg, media_time=False)
    signal.signal(signal.SIGTERM, lambda *_: unit.request_stop())
    signal.signal(signal.SIGINT, lambda *_: unit.request_stop())
    log.info("counterunit %s starting on counter %s", cfg.unit.unit_id, cfg.unit.counter_id)
    try:
        unit.run()
    finally:
        unit.store.close()
    log.info("counterunit stopped")
    return EXIT_OK


def _cmd_replay(args: argparse.Namespace) -> int:
    from firmware.tools.replay import replay

    return replay(args)


# A unit's install (requirements/device.txt) has no HQ server and no sample photographs.
NOT_ON_A_UNIT = ("{what} needs {module}, which is not installed here: a unit's install "
                 "leaves out HQ and the demo; a development machine installs "
                 "requirements/dev.txt, an HQ server requirements/hq.txt")


def _not_installed(what: str, exc: ModuleNotFoundError) -> int:
    print(f"error: {NOT_ON_A_UNIT.format(what=what, module=exc.name)}", file=sys.stderr)
    return EXIT_FAILED


def _cmd_demo(args: argparse.Namespace) -> int:
    try:
        from firmware.demo.day import demo
    except ModuleNotFoundError as exc:
        return _not_installed("counterunit demo (it runs an embedded HQ)", exc)
    return demo(args)


def _cmd_keypad_sim(args: argparse.Namespace) -> int:
    from evaluator.sim_cli import keypad_main

    return int(keypad_main(args.rest) or 0)


def _cmd_badge_sim(args: argparse.Namespace) -> int:
    from evaluator.sim_cli import badge_main

    return int(badge_main(args.rest) or 0)


def _cmd_sync(args: argparse.Namespace) -> int:
    from firmware.syncd.main import run_sync
    from firmware.system.logsetup import setup_logging

    cfg = load_config(args.config)
    if cfg.sync is None:
        print(f"{args.config}: no [sync] section: this unit is not set up to sync with HQ",
              file=sys.stderr)
        return EXIT_CONFIG
    setup_logging(cfg.logging.level)
    return run_sync(cfg, cfg.sync)


def _cmd_hq(args: argparse.Namespace) -> int:
    try:
        from hq.cli import main as hq_main
    except ModuleNotFoundError as exc:
        return _not_installed("counterunit hq", exc)
    return hq_main(args.rest)


def _cmd_enroll(args: argparse.Namespace) -> int:
    from sync.enroll import EnrollmentFailed, enroll
    from sync.identity import UnitIdentity

    cfg = load_config(args.config)
    identity = UnitIdentity(args.identity_dir or cfg.unit.data_dir / "identity")
    try:
        enroll(args.hq, args.code, cfg.unit.unit_id, identity, args.ca)
    except EnrollmentFailed as exc:
        print(f"enrollment failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"unit {cfg.unit.unit_id} enrolled; identity in {identity.directory}")
    return EXIT_OK


def _zone_arg(text: str) -> tuple[str, tuple[float, float, float, float]]:
    try:
        name, box = text.split("=", 1)
        x0, y0, x1, y1 = (float(v) for v in box.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--zone wants NAME=x0,y0,x1,y1 with relative coordinates, got {text!r}") from None
    return name, (x0, y0, x1, y1)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="counterunit", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check-config", help="validate a unit.toml and list every problem")
    p.add_argument("file", type=Path)
    p.set_defaults(func=_cmd_check_config)

    p = sub.add_parser("run", help="run the unit daemon")
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("replay", help="run the whole unit over a video, as fast as possible")
    p.add_argument("video", type=Path)
    p.add_argument("--config", type=Path, help="unit.toml (camera and serial parts are replaced)")
    p.add_argument("--zone", type=_zone_arg, action="append", default=[],
                   metavar="NAME=x0,y0,x1,y1", help="override a zone (relative coordinates)")
    p.add_argument("--script", type=Path, help="JSON lines of timed badge taps and key presses")
    p.add_argument("--audio", type=Path, help="WAV file to use as the microphone")
    p.add_argument("--out", type=Path, help="where the database and clips go (default: temp)")
    p.add_argument("--json", action="store_true", help="one JSON object per event per line")
    p.set_defaults(func=_cmd_replay)

    p = sub.add_parser("demo", help="a simulated counter day end to end")
    p.add_argument("--out", type=Path, default=Path("demo-output"))
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("keypad-sim", help="keypad simulator on a serial port / pty",
                       add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=_cmd_keypad_sim)

    p = sub.add_parser("sync", help="send events and clips to HQ (its own process)")
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH)
    p.set_defaults(func=_cmd_sync)

    p = sub.add_parser("enroll", help="enroll this unit with HQ using a one-time code")
    p.add_argument("--hq", required=True, help="HQ base URL, e.g. https://hq.bank.local:8443")
    p.add_argument("--code", required=True, help="the one-time enrollment code")
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH)
    p.add_argument("--ca", type=Path, default=Path("/etc/counterunit/hq-ca.pem"),
                   help="HQ's CA certificate (ships with the installer)")
    p.add_argument("--identity-dir", type=Path, help="default: <data_dir>/identity")
    p.set_defaults(func=_cmd_enroll)

    p = sub.add_parser("hq", help="the reference HQ service (serve, enroll-code)",
                       add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=_cmd_hq)

    p = sub.add_parser("badge-sim", help="badge reader simulator on a serial port / pty",
                       add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=_cmd_badge_sim)

    from firmware.cli.install import add_parsers

    add_parsers(sub)  # doctor, zones snapshot
    from firmware.cli.status import add_parsers as add_status_parsers

    add_status_parsers(sub)  # status
    from firmware.cli.eval import add_parser as add_eval_parser

    add_eval_parser(sub)  # eval presence
    from evaluator.queue_sim_cli import add_parser as add_queue_sim

    add_queue_sim(sub)  # queue-sim
    return parser


def _expected_errors() -> tuple[type[BaseException], ...]:
    from firmware.tools.script import ScriptError
    from hal.badge.evdev_badge import EvdevUnavailableError
    from hal.camera.base import CameraError
    from hal.mic.base import MicrophoneError
    from vision.compose.samples import SampleImagesMissing
    from vision.models.manifest import ModelError
    from vision.runtime import ModelLoadError

    return (CameraError, EvdevUnavailableError, MicrophoneError, ModelError, ModelLoadError,
            SampleImagesMissing, ScriptError)


def hq_listing() -> str:
    """The ``counterunit hq`` subcommands, one per line, for the top-level help."""
    try:
        from hq.cli import build_parser as hq_parser
    except ModuleNotFoundError as exc:
        return "counterunit hq: " + NOT_ON_A_UNIT.format(what="HQ", module=exc.name)

    lines = ["counterunit hq subcommands (counterunit hq COMMAND -h for each):"]
    for action in hq_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            lines += [f"  {c.dest:<18} {c.help or ''}" for c in action._choices_actions]
    return "\n".join(lines)


def delegated_commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Subcommands whose own parser reads the rest of the line (``rest``, REMAINDER)."""
    out = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                if any(a.dest == "rest" and a.nargs == argparse.REMAINDER
                       for a in child._actions):
                    out[name] = child
    return out


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = build_parser()
    delegated = delegated_commands(parser)
    if argv and argv[0] in delegated:
        # argparse would take a leading ``-h`` of the rest for its own: hand it over whole.
        return argparse.Namespace(rest=argv[1:], func=delegated[argv[0]].get_default("func"))
    if argv[:1] in (["-h"], ["--help"]):
        parser.epilog = hq_listing()
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else list(argv))
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except ConfigError as exc:
        print_config_error(exc)
        return EXIT_CONFIG
    except _expected_errors() as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
