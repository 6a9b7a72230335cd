"""A fault-injecting TCP proxy on loopback for tests (latency, bandwidth, reset, stall, truncation).

The proxy forwards raw bytes, so TLS passes through untouched; given a ``TlsTap`` it
terminates TLS on both legs instead and logs the HTTP it forwarded in ``proxy.wire``
(wire.py; tests/helpers/unit/sync_wire.py reads a unit's re-sends off it). It runs its own
asyncio loop in a background thread so synchronous test code (and blocking HTTP clients)
can use it; every fault setter is thread-safe and takes effect on chunks not yet forwarded.

Directions: ``Direction.UP`` is client -> upstream (requests), ``Direction.DOWN`` is
upstream -> client (responses). A setter given ``direction=None`` applies to both.

    with FaultProxy(("127.0.0.1", hq_port)) as proxy:   # point the unit at proxy.port
        proxy.reset_after(256_000, Direction.UP, times=1)  # drop one upload mid-body
        proxy.set_down(True)                               # HQ unreachable ...
        proxy.clear()                                      # ... and back
        assert proxy.stats.bytes_up >= clip_size
"""

from tests.faultproxy.faults import Direction, FaultProxyError, ProxyStats, TokenBucket
from tests.faultproxy.proxy import FaultProxy
from tests.faultproxy.wire import Exchange, Message, TlsTap, WireLog

__all__ = ["Direction", "Exchange", "FaultProxy", "FaultProxyError", "Message", "ProxyStats",
           "TlsTap", "TokenBucket", "WireLog"]
