"""Apply ``hq.toml`` before any store of a data folder opens: route its databases to
PostgreSQL when configured, and check the schema revision (:mod:`.migrate`)."""

from __future__ import annotations

from pathlib import Path

from hq.config import HQConfig, PostgresDatabase, load_hq_config

from .migrate import check
from .routes import route_folder


def open_data(root: Path, config_file: Path | None = None, *, check_schema: bool = True
              ) -> HQConfig:
    """The folder's config, with its database routed and (by default) its schema checked.

    Raises HQConfigError (bad ``hq.toml``) or SchemaError (a schema HQ may not open).
    """
    config = load_hq_config(root, config_file)
    db = config.database
    if isinstance(db, PostgresDatabase):
        route_folder(root, db.dsn, db.connect_timeout_s)
    if check_schema:
        check(root, db)
    return config
