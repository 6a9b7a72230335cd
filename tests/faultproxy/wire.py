"""What went over the wire, in HTTP terms: the fault proxy as a TLS-terminating tap.

Given a ``TlsTap``, the proxy ends the client's TLS with the server's own certificate and
key, and opens its own TLS connection upstream with the client's certificate and key, so
mutual TLS still holds on both legs while the proxy sees plain HTTP/1.1. Every byte it
forwards (after the faults: a reset cuts what the log sees exactly where it cuts what the
peer got) is fed to a per-link ``HttpStream`` parser, and ``WireLog.exchanges()`` gives
the requests and responses as delivered: a request whose body was cut is there with
``complete=False`` and the bytes that did get through.
"""

from __future__ import annotations

import itertools
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# Bodies of these content types are counted, not kept (clip chunks).
_COUNT_ONLY = ("application/offset+octet-stream",)


@dataclass(frozen=True)
class TlsTap:
    """The credentials for terminating TLS on both legs of the proxy."""

    server_cert: Path  # what the proxy shows clients (the upstream server's own)
    server_key: Path
    client_cert: Path  # what the proxy shows upstream (the client's own)
    client_key: Path
    ca: Path  # verifies upstream's certificate
    server_hostname: str = "localhost"

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.server_cert, self.server_key)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.ca))
        ctx.load_cert_chain(self.client_cert, self.client_key)
        return ctx


@dataclass
class Message:
    """One HTTP message as far as it got through. ``headers`` names are lower-case."""

    start_line: str
    headers: dict[str, str]
    body: bytearray = field(default_factory=bytearray)  # empty when only counted
    body_bytes: int = 0
    complete: bool = False

    @property
    def method(self) -> str:
        return self.start_line.split(" ", 1)[0]

    @property
    def target(self) -> str:
        parts = self.start_line.split(" ")
        return parts[1] if len(parts) > 1 else ""

    @property
    def status(self) -> int:
        parts = self.start_line.split(" ")
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


@dataclass
class Exchange:
    """A request on one connection and, if it came back, its response."""

    link: int
    seq: int  # order in which requests started, over all links
    request: Message
    response: Message | None = None

    @property
    def answered(self) -> bool:
        """The whole response reached the client."""
        return self.response is not None and self.response.complete


class HttpStream:
    """Incremental parser of one direction of an HTTP/1.1 connection (no pipelining needed)."""

    def __init__(self, on_message: Callable[[Message], None],
                 body_length: Callable[[Message], int | str | None]) -> None:
        self._buf = bytearray()
        self._msg: Message | None = None
        self._left: int | None = None  # body bytes still due; None: chunked or to close
        self._chunked = False
        self._chunk_left = 0
        self._trailers = False
        self._on_message = on_message  # a new message's head was parsed
        self._body_length = body_length  # its body: a length, "chunked", or None (to close)

    def feed(self, data: bytes) -> None:
        self._buf += data
        while self._step():
            pass

    def _step(self) -> bool:
        if self._msg is None:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return False
            head = self._buf[:end].decode("latin-1").split("\r\n")
            del self._buf[:end + 4]
            headers = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            self._msg = Message(head[0], headers)
            self._on_message(self._msg)
            length = self._body_length(self._msg)
            self._chunked = length == "chunked"
            self._left = length if isinstance(length, int) else None
            self._chunk_left = 0
            self._trailers = False
            if self._left == 0:
                self._finish()
            return True
        if self._chunked:
            return self._chunked_step()
        take = len(self._buf) if self._left is None else min(self._left, len(self._buf))
        if take == 0:
            return False
        self._body(bytes(self._buf[:take]))
        del self._buf[:take]
        if self._left is not None:
            self._left -= take
            if self._left == 0:
                self._finish()
        return True

    def _chunked_step(self) -> bool:
        if self._trailers:  # after the last chunk: optional trailers, then an empty line
            if self._buf.startswith(b"\r\n"):
                end = 2
            elif (found := self._buf.find(b"\r\n\r\n")) >= 0:
                end = found + 4
            else:
                return False
            del self._buf[:end]
            self._finish()
            return True
        if self._chunk_left > 0:
            take = min(self._chunk_left, len(self._buf))
            if take == 0:
                return False
            self._body(bytes(self._buf[:take]))
            del self._buf[:take]
            self._chunk_left -= take
            return True
        end = self._buf.find(b"\r\n")
        if end < 0:
            return False
        line = self._buf[:end].decode("latin-1").strip()
        del self._buf[:end + 2]
        if not line:  # the CRLF after a chunk's data
            return True
        size = int(line.split(";")[0], 16)
        if size == 0:
            self._trailers = True
            return True
        self._chunk_left = size
        return True

    def _body(self, data: bytes) -> None:
        assert self._msg is not None
        self._msg.body_bytes += len(data)
        if not self._msg.headers.get("content-type", "").startswith(_COUNT_ONLY):
            self._msg.body += data

    def _finish(self) -> None:
        assert self._msg is not None
        self._msg.complete = True
        self._msg = None


class LinkTap:
    """The two parsers of one proxied connection, pairing responses with requests."""

    def __init__(self, log: WireLog, link: int) -> None:
        self._log = log
        self._link = link
        self._open: list[Exchange] = []  # requests waiting for their response, in order
        self._responding: Exchange | None = None
        self._up = HttpStream(self._request, self._request_length)
        self._down = HttpStream(self._response, self._response_length)

    def up(self, data: bytes) -> None:
        """Bytes forwarded client -> upstream."""
        self._feed(self._up, data)

    def down(self, data: bytes) -> None:
        """Bytes forwarded upstream -> client."""
        self._feed(self._down, data)

    def _feed(self, stream: HttpStream, data: bytes) -> None:
        # A parse error must not break the link it watches: it is recorded for the test.
        try:
            stream.feed(data)
        except Exception as exc:
            self._log.errors.append(f"link {self._link}: {type(exc).__name__}: {exc}")

    def _request(self, msg: Message) -> None:
        self._open.append(self._log.add(self._link, msg))

    @staticmethod
    def _request_length(msg: Message) -> int | str:
        if "chunked" in msg.headers.get("transfer-encoding", ""):
            return "chunked"
        return int(msg.headers.get("content-length", "0") or 0)

    def _response(self, msg: Message) -> None:
        with self._log.lock:
            self._responding = self._open.pop(0) if self._open else None
            if self._responding is not None:
                self._responding.response = msg

    def _response_length(self, msg: Message) -> int | str | None:
        head = self._responding is not None and self._responding.request.method == "HEAD"
        if head or msg.status in (204, 304) or 100 <= msg.status < 200:
            return 0
        if "chunked" in msg.headers.get("transfer-encoding", ""):
            return "chunked"
        if "content-length" in msg.headers:
            return int(msg.headers["content-length"] or 0)
        return None  # until the connection closes


class WireLog:
    """Every HTTP exchange the tap saw, over all connections, in the order requests began."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._exchanges: list[Exchange] = []
        self.errors: list[str] = []  # bytes the parser could not read as HTTP/1.1
        self._links = itertools.count(1)
        self._seq = itertools.count(1)

    def link(self) -> LinkTap:
        """The tap of a new connection."""
        return LinkTap(self, next(self._links))

    def add(self, link: int, request: Message) -> Exchange:
        with self.lock:
            ex = Exchange(link, next(self._seq), request)
            self._exchanges.append(ex)
            return ex

    def exchanges(self) -> list[Exchange]:
        """A snapshot (messages still in flight may grow after it is taken)."""
        with self.lock:
            return list(self._exchanges)
