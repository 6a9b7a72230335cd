"""The queue machine's HTTP JSON poll, served from a QueueBoard on a real socket."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Literal

from evaluator.queue_sim import QueueBoard

Fault = Literal["none", "500", "garbage", "bad_shape", "huge"]


class QueueHttpSim:
    """GET ``path`` answers ``board.snapshot()`` (or the configured fault)."""

    def __init__(self, board: QueueBoard | None = None, *, host: str = "127.0.0.1",
                 port: int = 0, path: str = "/queue") -> None:
        self.board = board or QueueBoard()
        self.path = path
        self.fault: Fault = "none"
        self.requests = 0
        sim = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                sim.requests += 1
                if self.path.split("?")[0] != sim.path:
                    self._answer(404, b'{"error": "not found"}')
                elif sim.fault == "500":
                    self._answer(500, b"internal error")
                elif sim.fault == "garbage":
                    self._answer(200, b"\x00{\"protocol\": 1, \xff")
                elif sim.fault == "bad_shape":
                    self._answer(200, b'{"protocol": 1, "services": [{"service": "A"}]}')
                elif sim.fault == "huge":
                    self._answer(200, b"[" + b"0," * 600_000 + b"0]")
                else:
                    self._answer(200, json.dumps(sim.board.snapshot()).encode())

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet: tests and the CLI print what matters

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.path}"

    def start(self) -> QueueHttpSim:
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            name="queue-http-sim", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5.0)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> QueueHttpSim:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
