"""Command lines for the simulators (``counterunit keypad-sim`` / ``counterunit badge-sim``).

``--port`` names the unit's side of the line. If it is a URL or an existing device the
simulator opens it (e.g. a USB adapter cross-wired to the unit's port); otherwise the
simulator creates a pseudo-terminal and publishes its slave at that path for the unit to
open, removing it on exit.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from contextlib import ExitStack
from typing import TextIO

from evaluator.badge_sim import BadgeSim
from evaluator.sim import KeypadSim
from evaluator.sim_transport import DeviceTransport, FdTransport, SerialTransport, TransportClosed
from hal.pty import PtyPair


def parse_script(text: str) -> list[int | None]:
    """``"5,4,-,1"`` -> ``[5, 4, None, 1]`` ("-" lets that prompt time out)."""
    out: list[int | None] = []
    if not text.strip():
        return out
    for part in text.split(","):
        part = part.strip()
        if part in ("-", ""):
            out.append(None)
            continue
        if not part.isdigit() or not 1 <= int(part) <= 255:
            raise ValueError(f"auto-rate entry {part!r} is not a key code 1..255 or '-'")
        out.append(int(part))
    return out


def _open_line(port: str, stack: ExitStack, baudrate: int, out: TextIO) -> DeviceTransport:
    if "://" in port or os.path.exists(port):
        return SerialTransport(port, baudrate=baudrate)
    pty = stack.enter_context(PtyPair(port))
    print(f"unit side of the line: {port} -> {pty.slave_name}", file=out, flush=True)
    return FdTransport(pty.master_fd)


def _sigterm_exits() -> None:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


def keypad_main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None) -> int:
    ap = argparse.ArgumentParser(prog="counterunit keypad-sim", description=__doc__)
    ap.add_argument("--port", required=True, help="device, pyserial URL, or pty path to create")
    ap.add_argument("--auto-rate", default="", help="keys answering each prompt, e.g. 5,4,-,1")
    ap.add_argument("--delay", type=float, default=0.5, help="seconds before an auto-rate press")
    ap.add_argument("--heartbeat", type=float, default=1.0, help="heartbeat period in seconds")
    ap.add_argument("--interactive", action="store_true", help="read keys from stdin")
    ap.add_argument("--exit-when-done", action="store_true", help="exit after the script")
    ap.add_argument("--protocol", type=int, choices=(1, 2), default=2,
                    help="highest protocol version to speak (1: an older keypad)")
    args = ap.parse_args(argv)
    try:
        script = parse_script(args.auto_rate)
    except ValueError as exc:
        ap.error(str(exc))
    out = sys.stdout
    _sigterm_exits()
    with ExitStack() as stack:
        try:
            transport = _open_line(args.port, stack, 115200, out)
        except (TransportClosed, OSError) as exc:
            print(f"keypad-sim: {exc}", file=sys.stderr)
            return 2
        sim = KeypadSim(
            transport,
            heartbeat_s=args.heartbeat,
            auto_rate=script,
            auto_rate_delay_s=args.delay,
            protocol=args.protocol,
            on_event=lambda text: print(f"[keypad] {text}", file=out, flush=True),
        )
        stack.callback(sim.stop)
        sim.start()
        try:
            if args.interactive:
                _interactive(sim, stdin or sys.stdin, out)
            elif args.exit_when_done:
                sim.wait_for(lambda s: s.done or s.closed, timeout_s=None)
            else:
                sim.wait_for(lambda s: s.closed, timeout_s=None)
        except KeyboardInterrupt:
            pass
        return 1 if sim.closed else 0


_STATE_KEYS = {"o": "open", "c": "closed", "a": "away"}


def _interactive(sim: KeypadSim, stdin: TextIO, out: TextIO) -> None:
    print("keys: 1-9 customer key, r please-rate, m record, o/c/a window open/closed/away, "
          "d display, q quit", file=out)
    for line in stdin:
        cmd = line.strip().lower()
        if cmd == "q" or sim.closed:
            return
        if cmd.isdigit() and 1 <= int(cmd) <= 255:
            sim.press(int(cmd))
        elif cmd == "r":
            sim.please_rate()
        elif cmd == "m":
            sim.manual_record()
        elif cmd in _STATE_KEYS:
            sim.window_state(_STATE_KEYS[cmd])
        elif cmd == "d":
            print(sim.display, file=out, flush=True)
        elif cmd:
            print(f"unknown command {cmd!r}", file=out, flush=True)


def badge_main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None) -> int:
    ap = argparse.ArgumentParser(prog="counterunit badge-sim", description=__doc__)
    ap.add_argument("--port", required=True, help="device, pyserial URL, or pty path to create")
    ap.add_argument("--uid", action="append", default=[], help="tap this UID (repeatable)")
    ap.add_argument("--interval", type=float, default=1.0, help="seconds between --uid taps")
    ap.add_argument("--interactive", action="store_true", help="tap each UID read from stdin")
    args = ap.parse_args(argv)
    out = sys.stdout
    _sigterm_exits()
    stop = threading.Event()
    with ExitStack() as stack:
        try:
            badge = BadgeSim(_open_line(args.port, stack, 9600, out))
            for i, uid in enumerate(args.uid):
                if i and stop.wait(args.interval):
                    break
                badge.tap(uid)
                print(f"[badge] tapped {uid}", file=out, flush=True)
            if args.interactive:
                for line in stdin or sys.stdin:
                    if line.strip():
                        badge.tap(line.strip())
            else:
                stop.wait()  # keep the line open until interrupted
        except (TransportClosed, OSError) as exc:
            print(f"badge-sim: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            pass
    return 0
