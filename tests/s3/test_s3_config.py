"""hq.toml's [clips] section: every S3 key checked, errors naming the key and the rule."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hq.config import FilesClips, HQConfigError, S3Clips, load_hq_config

GOOD = {"type": "s3", "bucket": "counterunit-clips",
        "endpoint_url": "https://minio.bank.local:9000"}


def write(tmp_path: Path, body: str) -> Path:
    (tmp_path / "hq.toml").write_text(body, encoding="utf-8")
    return tmp_path


def test_without_a_file_clips_are_files_in_the_data_folder(tmp_path: Path) -> None:
    clips = load_hq_config(tmp_path).clips
    assert isinstance(clips, FilesClips) and clips.root is None


def test_a_full_s3_section_is_read_with_its_defaults(tmp_path: Path) -> None:
    cfg = load_hq_config(write(tmp_path, """
[clips]
type = "s3"
bucket = "counterunit-clips"
endpoint_url = "https://minio.bank.local:9000"
access_key_id = "counterunit-hq"
secret_access_key_file = "/etc/counterunit/s3-secret"
prefix = "hq/"
part_size_mib = 16
""")).clips
    assert isinstance(cfg, S3Clips)
    assert (cfg.bucket, cfg.prefix, cfg.part_size_mib, cfg.region, cfg.addressing_style,
            cfg.timeout_s, cfg.attempts) == ("counterunit-clips", "hq/", 16, "us-east-1",
                                             "path", 10.0, 2)
    assert cfg.secret_access_key_file == Path("/etc/counterunit/s3-secret")


@pytest.mark.parametrize(("extra", "key", "rule"), [
    ({"part_size_mib": 4}, "clips.s3.part_size_mib", "greater than or equal to 5"),
    ({"part_size_mib": 1024}, "clips.s3.part_size_mib", "less than or equal to 512"),
    ({"bucket": "Bad_Bucket"}, "clips.s3.bucket", "should match pattern"),
    ({"bucket": "ab"}, "clips.s3.bucket", "at least 3 characters"),
    ({"prefix": "no-slash"}, "clips.s3.prefix", "should match pattern"),
    ({"prefix": "hq/../up/"}, "clips.s3.prefix", "may not be '.' or '..'"),
    ({"timeout_s": 0.1}, "clips.s3.timeout_s", "greater than or equal to 0.5"),
    ({"addressing_style": "auto"}, "clips.s3.addressing_style", "'path' or 'virtual'"),
    ({"secret_access_key": "x"}, "clips.s3.secret_access_key", "Extra inputs"),
    ({"access_key_id": "k"}, "clips.s3", "go together"),
])
def test_a_bad_key_is_refused_by_name(tmp_path: Path, extra: dict[str, object], key: str,
                                      rule: str) -> None:
    fields = {**GOOD, **extra}
    body = "[clips]\n" + "".join(
        f"{k} = {v!r}\n".replace("'", '"') if isinstance(v, str) else f"{k} = {v}\n"
        for k, v in fields.items())
    with pytest.raises(HQConfigError) as err:
        load_hq_config(write(tmp_path, body))
    line = next(x for x in str(err.value).splitlines() if x.strip().startswith(key + ":"))
    assert rule in line


def test_a_secret_file_others_may_read_is_refused(tmp_path: Path) -> None:
    from hq.storage.s3.config import open_s3_store

    secret = tmp_path / "s3-secret"
    secret.write_text("k\n")
    os.chmod(secret, 0o644)
    cfg = S3Clips.model_validate({**GOOD, "access_key_id": "k",
                                  "secret_access_key_file": str(secret)})
    with pytest.raises(HQConfigError, match=r"clips.secret_access_key_file: .*mode 644"):
        open_s3_store(tmp_path, cfg)
