"""hq.toml: embedded default without a file; every error names the key."""

from pathlib import Path

import pytest

from hq.config import HQConfigError, PostgresDatabase, S3Clips, SqliteDatabase, load_hq_config


def test_no_file_is_the_embedded_default(tmp_path: Path) -> None:
    cfg = load_hq_config(tmp_path)
    assert isinstance(cfg.database, SqliteDatabase)
    assert cfg.clips.type == "files"


def test_postgresql_and_s3(tmp_path: Path) -> None:
    (tmp_path / "hq.toml").write_text(
        '[database]\ntype = "postgresql"\ndsn = "postgresql://hq@db/cu"\n'
        '[clips]\ntype = "s3"\nbucket = "clips"\nendpoint_url = "http://127.0.0.1:9000"\n')
    cfg = load_hq_config(tmp_path)
    assert isinstance(cfg.database, PostgresDatabase) and cfg.database.pool_size == 8
    assert isinstance(cfg.clips, S3Clips) and cfg.clips.bucket == "clips"


@pytest.mark.parametrize(("text", "key"), [
    ('[database]\ntype = "postgresql"\n', "database.postgresql.dsn"),
    ('[clips]\ntype = "s3"\nbucket = "Bad_Bucket"\n', "clips.s3.bucket"),
    ('[database]\ntype = "sqlite"\nsurprise = 1\n', "database.sqlite.surprise"),
    ('[database]\ntype = "oracle"\n', "database"),
])
def test_errors_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    (tmp_path / "hq.toml").write_text(text)
    with pytest.raises(HQConfigError, match=key.replace(".", r"\.")):
        load_hq_config(tmp_path)


def test_unreadable_toml(tmp_path: Path) -> None:
    (tmp_path / "hq.toml").write_text("[database\n")
    with pytest.raises(HQConfigError, match=r"hq\.toml"):
        load_hq_config(tmp_path)
