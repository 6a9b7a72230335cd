"""A real S3 API endpoint for the tests: moto in server mode on loopback.

moto's server speaks the S3 REST API (SigV4, multipart uploads, ranged GETs) over HTTP,
as MinIO or Ceph RGW do; it stands in for MinIO in the tests. It runs as its own process
(``python -m tests.servers.s3 PORT``), on a free loopback port, logging into a temporary
folder, started once per test session by the ``s3`` fixture (tests/servers/s3_fixtures.py).

The process keeps its objects in memory. ``stop()`` closes its listening socket (clients
get "connection refused", as from a store that is down) while the process and so the
bucket contents live on; ``start()`` listens again on the same port. That is the store
going away and coming back, with what it had stored intact.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

REGION = "us-east-1"
ACCESS_KEY_ID = "test-hq"
SECRET_KEY = "test-hq-secret"  # moto accepts any key pair; signatures are still computed
REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class S3Server:
    """One running moto server; ``client()`` talks to it, ``new_bucket()`` makes one."""

    folder: Path
    port: int
    proc: subprocess.Popen[str]
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _client: Any = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _say(self, command: str, answer: str) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        with self._lock:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
            line = _read_line(self.proc.stdout, START_TIMEOUT_S)
        if line != answer:
            raise RuntimeError(f"moto server answered {line!r} to {command!r}, not {answer!r}"
                               f" (log: {self.folder / 'moto.log'})")

    def stop(self) -> None:
        """Stop listening (connection refused from now on); the objects stay in memory."""
        self._say("stop", "stopped")

    def start(self) -> None:
        """Listen again on the same port."""
        self._say("start", "listening")

    def pause(self) -> None:
        """Freeze the server process (SIGSTOP): connections open, nothing answers, as a
        hung store or a black-holed network path; requests time out."""
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Let the frozen server go on (SIGCONT); it answers what queued meanwhile."""
        self.proc.send_signal(signal.SIGCONT)

    def secret_file(self, folder: Path) -> Path:
        """A 0600 file holding the secret key, as hq.toml's secret_access_key_file wants."""
        path = folder / "s3-secret"
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(SECRET_KEY + "\n", encoding="utf-8")
        os.chmod(path, 0o600)
        return path

    def client(self) -> Any:
        """A plain boto3 client of the endpoint (to look at the bucket from outside HQ);
        made once (a boto3 client takes a while to build)."""
        import boto3
        from botocore.config import Config

        if self._client is None:
            self._client = boto3.session.Session().client(
                "s3", endpoint_url=self.endpoint, region_name=REGION,
                aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_KEY,
                config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
        return self._client

    def new_bucket(self) -> str:
        """A new empty bucket (one per test or module, so tests never see each other)."""
        name = f"clips-{os.getpid()}-{next(self._names)}"
        self.client().create_bucket(Bucket=name)
        return name

    def toml(self, bucket: str, secret_file: Path, *, prefix: str = "clips/",
             part_size_mib: int = 5, timeout_s: float = 2.0) -> str:
        """The ``[clips]`` section of hq.toml naming this endpoint and ``bucket``."""
        return (f'[clips]\ntype = "s3"\nendpoint_url = "{self.endpoint}"\n'
                f'bucket = "{bucket}"\nregion = "{REGION}"\nprefix = "{prefix}"\n'
                f'access_key_id = "{ACCESS_KEY_ID}"\n'
                f'secret_access_key_file = "{secret_file}"\n'
                f"part_size_mib = {part_size_mib}\ntimeout_s = {timeout_s}\nattempts = 1\n")


def _read_line(stream: IO[str], timeout_s: float) -> str:
    """One line from the server's stdout, or '' when it closed or took too long."""
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout_s)
    return out[0].strip() if out else ""


@contextlib.contextmanager
def s3_server() -> Iterator[S3Server]:
    """Run a moto S3 server for the duration of the block, then end it."""
    folder = Path(tempfile.mkdtemp(prefix="hq-s3-"))
    port = _free_port()
    log = (folder / "moto.log").open("w", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.Popen([sys.executable, "-m", "tests.servers.s3", str(port)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                            text=True, cwd=folder, env=env)
    try:
        assert proc.stdout is not None
        line = _read_line(proc.stdout, START_TIMEOUT_S)
        if line != "listening":
            raise RuntimeError(f"moto server did not start ({line!r}); see {folder}/moto.log")
        yield S3Server(folder, port, proc)
    finally:
        with contextlib.suppress(OSError):
            if proc.stdin is not None:
                proc.stdin.close()  # the server ends at end of input
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def _serve(port: int) -> None:
    """The server process: listen on 127.0.0.1:PORT; 'stop'/'start' on stdin close and
    reopen the listening socket, end of input ends the process."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import BaseWSGIServer, make_server

    class Handler(MotoRequestHandler):
        # One request per connection: a client's pooled keep-alive connection must not
        # outlive stop() in its handler thread (the store would not look down to it).
        protocol_version = "HTTP/1.0"

    app = DomainDispatcherApplication(create_backend_app)
    server: BaseWSGIServer | None = None
    thread: threading.Thread | None = None

    def listen() -> None:
        nonlocal server, thread
        server = make_server("127.0.0.1", port, app, threaded=True,
                             request_handler=Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        print("listening", flush=True)

    def close() -> None:
        nonlocal server, thread
        if server is not None:
            server.shutdown()
            server.server_close()  # shutdown() alone leaves the socket accepting
            assert thread is not None
            thread.join()
        server = thread = None
        print("stopped", flush=True)

    listen()
    for line in sys.stdin:
        command = line.strip()
        if command == "stop":
            close()
        elif command == "start":
            if server is None:
                listen()
            else:
                print("listening", flush=True)
    if server is not None:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
