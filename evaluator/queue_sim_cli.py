"""``counterunit queue-sim serial|http``: a simulated queue machine for demos and tests.

serial: ``--port`` is a device, pyserial URL, or a pty path to create for the unit.
http: serves the JSON snapshot at ``http://HOST:PORT/queue``.
Commands on stdin (``--interactive``): ``q SERVICE N`` (waiting), ``c TICKET COUNTER``
(call), ``pause`` / ``resume`` (serial: the feed goes quiet), ``quit``.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Sequence
from contextlib import ExitStack
from typing import TextIO

from evaluator.queue_sim import QueueBoard, QueueLineSim
from evaluator.queue_sim_http import QueueHttpSim
from evaluator.sim_transport import FdTransport, SerialTransport, TransportClosed
from hal.pty import PtyPair


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("queue-sim", help="queue machine simulator (serial lines or HTTP)",
                       add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=lambda args: main(args.rest))


def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None) -> int:
    ap = argparse.ArgumentParser(prog="counterunit queue-sim", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("transport", choices=["serial", "http"])
    ap.add_argument("--port", help="serial: device, pyserial URL, or pty path to create")
    ap.add_argument("--listen", default="127.0.0.1:8081", help="http: HOST:PORT")
    ap.add_argument("--waiting", action="append", default=[], metavar="SERVICE=N")
    ap.add_argument("--call", action="append", default=[], metavar="TICKET@COUNTER")
    ap.add_argument("--heartbeat", type=float, default=1.0, help="serial: seconds between H")
    ap.add_argument("--interactive", action="store_true", help="read commands from stdin")
    args = ap.parse_args(argv)
    out = sys.stdout
    board = QueueBoard()
    try:
        for w in args.waiting:
            service, n = w.split("=", 1)
            board.set_waiting(service, int(n))
    except ValueError as exc:
        ap.error(f"--waiting wants SERVICE=N: {exc}")
    with ExitStack() as stack:
        line: QueueLineSim | None = None
        http: QueueHttpSim | None = None
        if args.transport == "serial":
            if not args.port:
                ap.error("serial needs --port")
            try:
                if "://" in args.port or os.path.exists(args.port):
                    tr: FdTransport | SerialTransport = SerialTransport(args.port, baudrate=9600)
                else:
                    pty = stack.enter_context(PtyPair(args.port))
                    print(f"unit side of the line: {args.port} -> {pty.slave_name}", file=out,
                          flush=True)
                    tr = FdTransport(pty.master_fd)
            except (TransportClosed, OSError) as exc:
                print(f"queue-sim: {exc}", file=sys.stderr)
                return 2
            line = QueueLineSim(tr, board=board, heartbeat_s=args.heartbeat, repeat_s=5.0)
            stack.callback(line.stop)
            line.start()
        else:
            host, _, port = args.listen.rpartition(":")
            try:
                http = QueueHttpSim(board, host=host or "127.0.0.1", port=int(port))
            except (OSError, ValueError) as exc:
                print(f"queue-sim: cannot listen on {args.listen}: {exc}", file=sys.stderr)
                return 2
            stack.enter_context(http)
        for c in args.call:
            ticket, _, counter = c.partition("@")
            _call(board, line, ticket, counter, out)
        if http is not None:  # announced once the calls asked for are on the board
            print(f"queue snapshot at {http.url}", file=out, flush=True)
        try:
            if args.interactive:
                _interactive(board, line, stdin or sys.stdin, out)
            else:
                threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


def _call(board: QueueBoard, line: QueueLineSim | None, ticket: str, counter: str,
          out: TextIO) -> None:
    try:
        if line is not None:
            line.call(ticket, counter)
        else:
            board.call(ticket, counter)
        print(f"[queue] called {ticket} to counter {counter}", file=out, flush=True)
    except ValueError as exc:
        print(f"[queue] refused: {exc}", file=out, flush=True)


def _interactive(board: QueueBoard, line: QueueLineSim | None, stdin: TextIO,
                 out: TextIO) -> None:
    for raw in stdin:
        parts = raw.split()
        if not parts:
            continue
        cmd = parts[0].lower()
        try:
            if cmd == "quit":
                return
            if cmd == "q" and len(parts) == 3:
                if line is not None:
                    line.set_waiting(parts[1], int(parts[2]))
                else:
                    board.set_waiting(parts[1], int(parts[2]))
                print(f"[queue] {parts[1]}: {parts[2]} waiting", file=out, flush=True)
            elif cmd == "c" and len(parts) == 3:
                _call(board, line, parts[1], parts[2], out)
            elif cmd in ("pause", "resume") and line is not None:
                line.pause(cmd == "pause")
                print(f"[queue] {cmd}d", file=out, flush=True)
            else:
                print(f"unknown command {raw.strip()!r}", file=out, flush=True)
        except ValueError as exc:
            print(f"[queue] refused: {exc}", file=out, flush=True)
