"""Real receivers on loopback for the alert channels: HTTP(S) endpoints and an SMTP server.

Each records what arrived; tests wait on a condition with a deadline, never a sleep.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() on arrival

    def json(self) -> Any:
        return json.loads(self.body)


def _default_answer(path: str) -> tuple[int, bytes]:
    if path.startswith("/services/"):  # Slack incoming webhooks answer the text "ok"
        return 200, b"ok"
    if path.startswith("/jsonrpc/sms"):  # SMSEagle JSON-RPC API
        return 200, b'{"result": {"message_id": 1, "status": "ok"}}'
    return 200, b'{"errcode": 0, "errmsg": "ok", "code": 0}'


class HttpReceiver:
    """A threaded HTTP(S) server recording every POST; ``status`` other than 200 = down."""

    def __init__(self, *, tls: tuple[Path, Path] | None = None) -> None:
        self.received: list[Received] = []
        self.status = 200
        self.cond = threading.Condition()
        # Cleared, requests are recorded on arrival and then held unanswered (a sender
        # caught mid-delivery); set, they are answered.
        self.gate = threading.Event()
        self.gate.set()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                parts = urlsplit(self.path)
                status, answer = (owner.status, b"down") if owner.status != 200 else \
                    _default_answer(parts.path)
                if status == 200:
                    with owner.cond:
                        owner.received.append(Received(
                            parts.path, parse_qs(parts.query),
                            {k.lower(): v for k, v in self.headers.items()}, body, time.time()))
                        owner.cond.notify_all()
                owner.gate.wait(60)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(str(tls[0]), str(tls[1]))
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, pred: Callable[[list[Received]], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred(self.received):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"receiver: condition not met in {timeout} s; "
                                         f"got {len(self.received)} request(s)")
                self.cond.wait(left)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpReceiver:
    """aiosmtpd as a real SMTP server on loopback, keeping each message parsed."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.cond = threading.Condition()
        owner = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
                with owner.cond:
                    owner.messages.append(msg)
                    owner.cond.notify_all()
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def wait_for(self, n: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.messages) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"smtp: {len(self.messages)} of {n} messages")
                self.cond.wait(left)

    def close(self) -> None:
        self.controller.stop()


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A throw-away certificate for 127.0.0.1 (the Teams receiver speaks HTTPS)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    cp, kp = folder / "cert.pem", folder / "key.pem"
    cp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    kp.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    return cp, kp
