"""schemathesis against /v1/alerts with an admin's token: no input makes HQ answer 5xx,
including policy documents of every shape."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from hq.api.app import create_app
from hq.api.deps import HQDeps
from hq.storage.scope import Scope
from tests.helpers.hq.alerts import off_seat, seed_org


@pytest.fixture(scope="module")
def hq_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    root: Path = tmp_path_factory.mktemp("alerts-fuzz")
    deps = HQDeps.open(root / "data", deployment="fuzz")
    seed_org(deps.events._conn)
    deps.events.ingest("unit-a", [off_seat(1), off_seat(2, minute=1)])
    users = deps.user_store()
    users.create_user("fuzz-admin", "a long enough passphrase", "admin",
                      scope=Scope.everything())
    token = users.issue_token("fuzz-admin").token
    yield create_app(deps), token
    deps.alert_service().close()
    for store in (deps.events, deps.clips, deps.audit, users):
        store.close()


def test_no_input_makes_the_alert_api_fail(hq_app: tuple[Any, str]) -> None:
    app, token = hq_app
    schema = schemathesis.openapi.from_asgi("/v1/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations()]  # type: ignore[union-attr]
    mine = [op for op in operations if op.path.startswith("/v1/alerts")]
    assert len(mine) == 8
    failures: list[str] = []
    for operation in mine:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> "
                                f"{response.status_code}: {response.text[:300]}")

        check()
    assert not failures, "\n".join(failures[:10])
