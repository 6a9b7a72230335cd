"""``counterunit hq copy --from DATA_DIR --to CONFIG``: an embedded HQ (SQLite files and a
clips folder) into the PostgreSQL database and clip store ``CONFIG`` names.

Order: check both ends (the source a SQLite folder, brought to this HQ's revision as HQ
would on opening it; the target migrated to the same revision, every source table and
column present there), then the tables of events.db, users.db and audit.db, each in
foreign-key order, then the clips, then the check: every table's row count equal on
both sides and every clip read back from the target with its sha256. The local clip
store's own bookkeeping (clips/clips.sqlite: uploads, some unfinished) is not copied:
the target store records each clip it imports, and a unit re-sends an unfinished upload.

Safe to run again after an interruption: rows already there are skipped by primary key,
clips already there by digest. HQ should not be running on either end meanwhile.
"""

from __future__ import annotations

import contextlib
import importlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hq.config import HQConfig, PostgresDatabase, SqliteDatabase, load_hq_config

from .clipcopy import ClipsResult, copy_clips, source_clips, verify_clips
from .rows import CopyError, TableResult, copy_table
from .schema import dependency_order, pg_schema_of, pg_tables, primary_key, sqlite_tables

TABLE_FILES = ("events.db", "users.db", "audit.db")  # clips/clips.sqlite: see above


@dataclass
class CopyReport:
    """Everything one run did, and whether the target now equals the source."""

    tables: list[TableResult] = field(default_factory=list)
    clips: ClipsResult = field(default_factory=ClipsResult)
    stopped_early: bool = False

    @property
    def ok(self) -> bool:
        return (not self.stopped_early and all(t.ok for t in self.tables)
                and not self.clips.bad
                and self.clips.verified == self.clips.source_clips)


@dataclass
class Plan:
    """The tables to copy per file, in order, with their columns and keys."""

    files: dict[str, list[tuple[str, tuple[str, ...], list[str]]]]
    clips: list[Any]
    rows: int


def _target(config_file: Path) -> tuple[Path, HQConfig, PostgresDatabase]:
    config = load_hq_config(config_file.parent, config_file)
    if not isinstance(config.database, PostgresDatabase):
        raise CopyError(f"{config_file}: [database] type is {config.database.type!r}; "
                        "hq copy copies into a PostgreSQL database (type = \"postgresql\")")
    return config_file.parent.resolve(), config, config.database


def _check_source(source: Path) -> None:
    if not (source / "events.db").exists():
        raise CopyError(f"{source}: no events.db here; --from names an embedded HQ's "
                        "data folder")
    config = load_hq_config(source)
    if not isinstance(config.database, SqliteDatabase):
        raise CopyError(f"{source}/hq.toml: [database] is {config.database.type}; --from "
                        "names an embedded HQ (SQLite files)")
    from hq.storage.db.migrate import check

    check(source, config.database)  # an older folder is upgraded as HQ would on opening


def _check_target(root: Path, db: PostgresDatabase, config_file: Path) -> None:
    from hq.storage.db.migrate import current_revision, known_revisions

    head = known_revisions()[0]
    current = current_revision(root, db)
    if current != head:
        state = "has no HQ schema (not migrated)" if current is None \
            else f"is at schema revision {current}"
        raise CopyError(f"the target database of {config_file} {state}; this HQ copies into "
                        f"revision {head}: run `counterunit hq migrate --data {root} --config "
                        f"{config_file}` first")


def plan(source: Path, pg: Any) -> Plan:
    """What to copy, refusing a source table or column the target schema lacks."""
    files: dict[str, list[tuple[str, tuple[str, ...], list[str]]]] = {}
    rows = 0
    for file in TABLE_FILES:
        path = source / file
        if not path.exists():
            continue
        schema = pg_schema_of(file)
        there = pg_tables(pg, schema)
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as src:
            here = sqlite_tables(src)
            todo = []
            for table in dependency_order(src, sorted(here)):
                if table not in there:
                    raise CopyError(f"source table {file}:{table} has no counterpart in the "
                                    f"target schema {schema}")
                missing = set(here[table]) - set(there[table])
                if missing:
                    raise CopyError(f"source table {file}:{table} has column(s) "
                                    f"{', '.join(sorted(missing))} that {schema}.{table} "
                                    "lacks")
                todo.append((table, here[table], primary_key(src, table)))
                rows += int(src.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
        files[file] = todo
    return Plan(files, source_clips(source / "clips"), rows)


@contextlib.contextmanager
def _pg_session(db: PostgresDatabase) -> Iterator[Any]:
    import psycopg

    try:
        conn = psycopg.connect(db.dsn, autocommit=True,
                               connect_timeout=max(1, round(db.connect_timeout_s)))
    except psycopg.OperationalError as exc:
        raise CopyError(f"cannot reach the target PostgreSQL: {str(exc).strip()}") from exc
    with conn:
        got = conn.execute("SELECT pg_try_advisory_lock(hashtext('hq copy'))").fetchone()
        if not (got and got[0]):
            raise CopyError("another `counterunit hq copy` is running into this database")
        yield conn


def copy(source: Path, config_file: Path, *, stop_after: int | None = None,
         show: Any = None) -> CopyReport:
    """Copy ``source`` into what ``config_file`` names; see the module docstring.

    ``stop_after`` stops once that many rows and clips are newly copied (a copy in
    stages; the tests' interruption). ``show`` is a rich Console for the progress bars
    (None: quiet).
    """
    from hq.storage.db.routes import route_folder, unroute

    source = source.resolve()
    root, config, db = _target(config_file)
    _check_source(source)
    _check_target(root, db, config_file)
    report = CopyReport()
    budget = None if stop_after is None else [stop_after]
    with _pg_session(db) as pg:
        work = plan(source, pg)
        route_folder(root, db.dsn, db.connect_timeout_s)
        try:
            target = _open_clips(root, config)
            try:
                with _progress(show) as bars:
                    _copy_all(source, pg, work, report, budget, target, bars)
            finally:
                target.close()
        finally:
            unroute([root])
    report.stopped_early = budget is not None and budget[0] <= 0 and not report.ok
    return report


def _open_clips(root: Path, config: HQConfig) -> Any:
    """The target clip store as HQ itself opens it from ``config``."""
    try:  # the [clips] factory, where this HQ has one (S3 among the choices)
        factory = importlib.import_module("hq.storage.s3.config").open_clip_store
    except ModuleNotFoundError:
        from hq.config import FilesClips
        from hq.storage.clips.store import LocalClipStore

        if not isinstance(config.clips, FilesClips):
            raise CopyError(f"[clips] type {config.clips.type!r} is not available in this "
                            "HQ") from None
        return LocalClipStore(config.clips.root or root / "clips")
    return factory(root, config.clips)


class _Quiet:
    """Stands in for rich's Progress when nothing is shown."""

    def add_task(self, description: str, total: float | None = None) -> int:
        return 0

    def advance(self, task: int, advance: float = 1) -> None:
        pass


@contextlib.contextmanager
def _progress(show: Any) -> Iterator[Any]:
    if show is None:
        yield _Quiet()
        return
    from rich import progress as rp

    with rp.Progress(rp.TextColumn("{task.description:<32}"), rp.BarColumn(),
                     rp.MofNCompleteColumn(), rp.TimeElapsedColumn(), console=show) as bars:
        yield bars


def _copy_all(source: Path, pg: Any, work: Plan, report: CopyReport,
              budget: list[int] | None, target: Any, bars: Any) -> None:
    for file, tables in work.files.items():
        schema = pg_schema_of(file)
        with contextlib.closing(sqlite3.connect(f"file:{source / file}?mode=ro",
                                                uri=True)) as src:
            for table, columns, key in tables:
                total = int(src.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
                task = bars.add_task(f"{file}:{table}", total=total)
                def advance(n: int, t: int = task) -> None:
                    bars.advance(t, n)

                report.tables.append(copy_table(
                    src, pg, file=file, schema=schema, table=table, columns=columns, key=key,
                    budget=budget, progress=advance))
                if budget is not None and budget[0] <= 0:
                    return
    task = bars.add_task("clips", total=len(work.clips))
    copy_clips(work.clips, target, report.clips, budget=budget,
               progress=lambda n: bars.advance(task, n))
    if budget is not None and budget[0] <= 0:
        return
    task = bars.add_task("clips' sha256 checked", total=len(work.clips))
    verify_clips(work.clips, target, report.clips, progress=lambda n: bars.advance(task, n))


def render(report: CopyReport) -> list[str]:
    """The report's lines: each table's counts, the clips, each problem named."""
    lines = []
    for t in report.tables:
        mark = "ok" if t.ok else "DIFFERS"
        lines.append(f"{t.file}:{t.table}: {t.source_rows} rows in source, {t.target_rows} "
                     f"in target ({t.inserted} copied, {t.skipped} already there) {mark}")
    c = report.clips
    lines.append(f"clips: {c.source_clips} in source, {c.stored} copied, {c.skipped} already "
                 f"there, {c.verified} read back with their sha256")
    lines.extend(f"clip {bad}" for bad in c.bad)
    return lines
