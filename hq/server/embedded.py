"""HQ in a background thread of the calling process: for ``counterunit demo`` and tests.

The same app, storage, CA and TLS set-up as ``counterunit hq serve``, on a free
loopback port. A second start on the same folder keeps HQ's data, CA and
server certificate, as a restarted server would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hq.api.app import apply_settings, create_app, guarded_server, server_config
from hq.api.deps import HQDeps, HQLimits
from hq.api.units.upload_expiry import UploadExpiry
from hq.server.guard import GuardStats
from hq.server.settings import HQServerSettings
from hq.storage.sqlite import private_dir

AppWrapper = Callable[[Any], Any]


@dataclass
class EmbeddedHQ:
    deps: HQDeps
    port: int
    root: Path
    # Not init fields, so subclasses adding their own fields keep their positions.
    guard: GuardStats | None = field(default=None, init=False)  # the server guard's counts
    expiry: UploadExpiry | None = field(default=None, init=False)  # tests call tick(now)

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}"

    @property
    def ca_pem(self) -> Path:
        return self.deps.ca.directory / "ca.pem"


@contextmanager
def running_hq(root: Path, limits: HQLimits | None = None, *,
               wrap: AppWrapper | None = None, deployment: str = "test",
               start_timeout_s: float = 15.0,
               data_dir: Path | None = None,
               settings: HQServerSettings | None = None) -> Iterator[EmbeddedHQ]:
    """Serve HQ from ``root`` on 127.0.0.1 (any free port) until the block ends.

    The data folder is ``root/data`` unless ``data_dir`` is given; ``data_dir=root``
    lays the folder out as ``counterunit hq serve --data root`` does (the demo hands
    its HQ over that way).
    """
    deps = HQDeps.open(data_dir or root / "data", deployment=deployment)
    if limits is not None:
        deps.limits = limits
    cert, key = root / "server" / "server.pem", root / "server" / "server.key"
    private_dir(root / "server")
    if not cert.exists():  # a restart on the same folder keeps HQ's identity
        cert, key = deps.ca.issue_server_cert(["localhost", "127.0.0.1"]).write(root / "server")
    app = create_app(deps)
    settings = settings or HQServerSettings.model_validate({})
    stats = GuardStats()
    config = server_config(wrap(app) if wrap else app, "127.0.0.1", 0, cert, key,
                           deps.ca.directory / "ca.pem", log_level="warning",
                           settings=settings, stats=stats)
    # Idle keep-alive connections of clients must not hold the shutdown up.
    config.timeout_graceful_shutdown = 1
    expiry = apply_settings(deps, settings)
    server = guarded_server(config, settings, stats)
    thread = threading.Thread(target=server.run, name="embedded-hq", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"embedded HQ did not start within {start_timeout_s} s")
        time.sleep(0.02)
    deps.alert_service().start()
    expiry.start()
    # HQ's own conditions (disk full) become alert threads (hq/alerts/service.py).
    deps.conditions.hooks.append(deps.alert_service().condition_hook)
    try:
        hq = EmbeddedHQ(deps, server.servers[0].sockets[0].getsockname()[1], root)
        hq.guard, hq.expiry = stats, expiry
        yield hq
    finally:
        expiry.stop()
        server.should_exit = True
        thread.join(10)
        deps.alert_service().close()
        for store in (deps.events, deps.clips, deps.audit):
            store.close()
        if deps.users is not None:
            deps.users.close()
