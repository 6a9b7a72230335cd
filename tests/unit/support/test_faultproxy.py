"""The fault proxy against a threaded echo/blast server on loopback: every fault, measured."""

from __future__ import annotations

import contextlib
import os
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import wait_for
from tests.faultproxy import Direction, FaultProxy, TokenBucket

DEADLINE_S = 5.0


class _Handler(socketserver.BaseRequestHandler):
    server: Upstream

    def handle(self) -> None:
        sock: socket.socket = self.request
        got = bytearray()
        try:
            if self.server.payload is not None:
                sock.sendall(self.server.payload)
                sock.shutdown(socket.SHUT_WR)
            while data := sock.recv(65536):
                got += data
                if self.server.payload is None:
                    sock.sendall(data)
            if self.server.payload is None:
                sock.shutdown(socket.SHUT_WR)
        except OSError as exc:
            self.server.errors.append(exc)
        finally:
            with self.server.lock:
                self.server.received.append(bytes(got))


class Upstream(socketserver.ThreadingTCPServer):
    """Echoes what it gets, or (with ``payload``) sends it on connect then reads to EOF.

    ``received`` holds, per finished connection, every byte that reached the server.
    """

    daemon_threads = True

    def __init__(self, payload: bytes | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.payload = payload
        self.lock = threading.Lock()
        self.received: list[bytes] = []
        self.errors: list[OSError] = []
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server_address[:2]
        return (str(host), int(port))

    def close(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(DEADLINE_S)


@pytest.fixture
def echo() -> Iterator[Upstream]:
    server = Upstream()
    yield server
    server.close()


@pytest.fixture
def proxy(echo: Upstream) -> Iterator[FaultProxy]:
    with FaultProxy(echo.address) as p:
        yield p


def connect(proxy: FaultProxy) -> socket.socket:
    sock = socket.create_connection(proxy.address, timeout=DEADLINE_S)
    sock.settimeout(DEADLINE_S)
    return sock


def read_to_end(sock: socket.socket, sink: bytearray | None = None) -> bytes:
    """Read until EOF; bytes also go to ``sink`` so a test sees them when recv raises."""
    out = bytearray() if sink is None else sink
    while data := sock.recv(65536):
        out += data
    return bytes(out)


def expect_reset(proxy: FaultProxy) -> None:
    """The connection is accepted then reset; the RST may beat connect() to returning."""
    with pytest.raises(ConnectionResetError), connect(proxy) as sock:
        sock.recv(1)


def send_in_background(sock: socket.socket, payload: bytes) -> threading.Thread:
    """Send then half-close from a thread, so the echo never deadlocks on full buffers."""

    def run() -> None:
        try:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # a reset under test; the reading side asserts on it

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def exchange(proxy: FaultProxy, payload: bytes) -> bytes:
    with connect(proxy) as sock:
        sender = send_in_background(sock, payload)
        echoed = read_to_end(sock)
        sender.join(DEADLINE_S)
    return echoed


def test_passthrough_is_byte_exact_and_counted(proxy: FaultProxy, echo: Upstream) -> None:
    payload = os.urandom(300_000)
    assert exchange(proxy, payload) == payload
    wait_for(lambda: echo.received, DEADLINE_S, "upstream to finish")
    assert echo.received == [payload]
    wait_for(lambda: proxy.stats.active == 0, DEADLINE_S, "link to close")
    stats = proxy.stats
    assert (stats.connections, stats.bytes_up, stats.bytes_down) == (1, 300_000, 300_000)
    assert stats.resets == 0


def test_latency_is_added_each_direction(proxy: FaultProxy) -> None:
    proxy.set_latency(0.15, Direction.UP)
    proxy.set_latency(0.10, Direction.DOWN)
    with connect(proxy) as sock:
        start = time.monotonic()
        sock.sendall(b"ping")
        assert sock.recv(16) == b"ping"
        rtt = time.monotonic() - start
    assert 0.25 <= rtt < 0.25 + 0.15


@pytest.mark.parametrize("direction", [Direction.UP, Direction.DOWN])
def test_bandwidth_cap_within_ten_percent(proxy: FaultProxy, direction: Direction) -> None:
    cap = 150_000.0
    payload = os.urandom(200_000)
    proxy.set_bandwidth(cap, direction)
    start = time.monotonic()
    assert exchange(proxy, payload) == payload
    rate = len(payload) / (time.monotonic() - start)
    assert rate == pytest.approx(cap, rel=0.10)


def test_lifting_the_cap_mid_transfer_takes_effect_at_once(proxy: FaultProxy) -> None:
    proxy.set_bandwidth(5_000, Direction.DOWN)  # 200 KB would take 40 s at this cap
    payload = os.urandom(200_000)
    with connect(proxy) as sock:
        sender = send_in_background(sock, payload)
        got = bytearray(sock.recv(65536))
        start = time.monotonic()
        proxy.set_bandwidth(None)
        assert read_to_end(sock, got) == payload
        assert time.monotonic() - start < 1.0
        sender.join(DEADLINE_S)


# rate 1000 B/s: pieces of 10 bytes, the bucket holds 20
@pytest.mark.parametrize(("rate", "steps"), [
    pytest.param(1000, [(0.0, 50, 0, 0.01)], id="fresh-bucket-waits-one-piece"),
    pytest.param(1000, [(0.0, 50, 0, 0.01), (0.01, 50, 10, 0.0), (0.01, 50, 0, 0.01)],
                 id="refills-with-time"),
    pytest.param(1000, [(0.0, 5, 0, 0.005), (0.005, 5, 5, 0.0)], id="small-write-whole"),
    pytest.param(1000, [(0.0, 50, 0, 0.01), (0.015, 50, 10, 0.0), (0.015, 50, 0, 0.005)],
                 id="overshoot-carries-over"),
    pytest.param(1000, [(0.0, 1, 0, 0.001), (100.0, 50, 10, 0.0), (100.0, 50, 10, 0.0),
                        (100.0, 50, 0, 0.01)], id="idle-burst-capped-at-two-pieces"),
    pytest.param(50, [(0.0, 100, 0, 0.02), (0.02, 100, 1, 0.0)], id="slow-rate-byte-pieces"),
])
def test_token_bucket(rate: float, steps: list[tuple[float, int, int, float]]) -> None:
    bucket = TokenBucket()
    for now, want, granted, wait_s in steps:
        assert bucket.take(now, rate, want) == (granted, pytest.approx(wait_s))


def test_reset_upstream_after_n_bytes_then_disarms(proxy: FaultProxy, echo: Upstream) -> None:
    proxy.reset_after(10_000, Direction.UP, times=1)
    with connect(proxy) as sock:
        sender = send_in_background(sock, os.urandom(200_000))
        got = bytearray()
        with pytest.raises(ConnectionResetError):
            read_to_end(sock, got)
        sender.join(DEADLINE_S)
    wait_for(lambda: echo.received, DEADLINE_S, "upstream to see the reset")
    assert [len(r) for r in echo.received] == [10_000]
    assert len(got) <= 10_000
    assert (proxy.stats.resets, proxy.stats.bytes_up) == (1, 10_000)

    payload = os.urandom(50_000)  # times=1: the next connection goes through untouched
    assert exchange(proxy, payload) == payload
    assert proxy.stats.resets == 1


def test_reset_downstream_after_n_bytes_delivers_exactly_n() -> None:
    payload = os.urandom(100_000)
    server = Upstream(payload)
    try:
        with FaultProxy(server.address) as proxy:
            proxy.reset_after(30_000, Direction.DOWN)
            got = bytearray()
            with connect(proxy) as sock, pytest.raises(ConnectionResetError):
                read_to_end(sock, got)
            assert bytes(got) == payload[:30_000]
            assert proxy.stats.bytes_down == 30_000
    finally:
        server.close()


def test_truncate_delivers_n_bytes_then_clean_eof() -> None:
    payload = os.urandom(100_000)
    server = Upstream(payload)
    try:
        with FaultProxy(server.address) as proxy:
            proxy.truncate_after(12_345)
            with connect(proxy) as sock:
                assert read_to_end(sock) == payload[:12_345]
            assert (proxy.stats.truncations, proxy.stats.resets) == (1, 0)
    finally:
        server.close()


def test_down_resets_new_connections_then_recovers(proxy: FaultProxy, echo: Upstream) -> None:
    proxy.set_down(True)
    expect_reset(proxy)
    assert (proxy.stats.refused, proxy.stats.resets) == (1, 1)
    assert echo.received == []  # nothing reached upstream while down
    proxy.set_down(False)
    assert exchange(proxy, b"back") == b"back"


def test_unreachable_upstream_resets_client_until_repointed(proxy: FaultProxy,
                                                            echo: Upstream) -> None:
    with socket.socket() as probe:  # a port with nothing listening on it
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()
    proxy.set_upstream(dead)
    expect_reset(proxy)
    assert proxy.stats.upstream_failures == 1
    proxy.set_upstream(echo.address)
    assert exchange(proxy, b"again") == b"again"


def test_stall_holds_bytes_until_released(proxy: FaultProxy, echo: Upstream) -> None:
    proxy.stall(direction=Direction.UP)
    with connect(proxy) as sock:
        sock.sendall(b"held")
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):  # nothing comes back while the request is held
            sock.recv(16)
        assert proxy.stats.bytes_up == 0
        sock.settimeout(DEADLINE_S)
        proxy.release()
        assert sock.recv(16) == b"held"


def test_timed_stall_ends_by_itself(proxy: FaultProxy) -> None:
    proxy.stall(0.3)
    with connect(proxy) as sock:
        start = time.monotonic()
        sock.sendall(b"later")
        assert sock.recv(16) == b"later"
        assert 0.3 <= time.monotonic() - start < 0.3 + 0.2


def test_reset_all_cuts_open_connections(proxy: FaultProxy) -> None:
    with connect(proxy) as sock:
        sock.sendall(b"x")
        assert sock.recv(1) == b"x"
        proxy.reset_all()
        with pytest.raises(ConnectionResetError):
            sock.recv(1)
    assert proxy.stats.resets == 1


def test_stop_closes_everything_promptly(echo: Upstream) -> None:
    proxy = FaultProxy(echo.address).start()
    proxy.stall()  # a link with held bytes must not keep the proxy alive
    sock = connect(proxy)
    sock.sendall(b"in flight")
    wait_for(lambda: proxy.stats.active == 1, DEADLINE_S, "link to open")
    start = time.monotonic()
    proxy.stop()
    assert time.monotonic() - start < 1.0
    assert not proxy.is_running
    # Closed, not left hanging: EOF, or a reset when the closed end still held unread
    # bytes of ours (Linux answers those with RST; which one depends on timing).
    with sock, contextlib.suppress(ConnectionResetError):
        assert sock.recv(16) == b""
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(proxy.address, timeout=DEADLINE_S).close()


def _call(method: str, *args: Any, **kwargs: Any) -> Callable[[FaultProxy], None]:
    return lambda p: getattr(p, method)(*args, **kwargs)


@pytest.mark.parametrize(("apply", "message"), [
    (_call("set_latency", -1.0), "latency"),
    (_call("set_latency", float("inf")), "latency"),
    (_call("set_bandwidth", 0), "bandwidth"),
    (_call("set_bandwidth", float("nan")), "bandwidth"),
    (_call("reset_after", -1, Direction.UP), "byte count"),
    (_call("truncate_after", 10, times=0), "times"),
    (_call("stall", -0.5), "stall"),
])
def test_bad_fault_values_are_refused(apply: Callable[[FaultProxy], None], message: str) -> None:
    proxy = FaultProxy(("127.0.0.1", 9))  # never started: validation needs no loop
    with pytest.raises(ValueError, match=message):
        apply(proxy)
