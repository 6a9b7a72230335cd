"""Per-back-end diagnostics: doctor collects what each back-end declares (hal/*/backends.py).

Real config files, the real doctor command (``counterunit doctor --json``), real ptys as
devices under a fake root, and the real registries; nothing in doctor names a back-end.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from firmware.cli.app import main
from firmware.doctor.host import Host
from firmware.doctor.report import doctor
from hal.badge.backends import BADGES
from hal.camera.backends import CAMERAS
from hal.keypad.backends import KEYPADS
from hal.mic.backends import MICROPHONES
from hal.queue.backends import QUEUE_FEEDS
from hal.registry import Backend

REGISTRIES = {"camera": CAMERAS, "microphone": MICROPHONES, "queue": QUEUE_FEEDS,
              "keypad": KEYPADS, "badge": BADGES}


def no_modules(name: str) -> Any:
    raise ModuleNotFoundError(f"No module named {name!r}", name=name)


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    """A fake root whose /dev/counterunit-queue is a udev-style link to a real pty."""
    dev = tmp_path / "root/dev"
    dev.mkdir(parents=True)
    controller, peer = os.openpty()
    (dev / "counterunit-queue").symlink_to(os.ttyname(peer))
    (tmp_path / "data").mkdir()
    try:
        yield tmp_path
    finally:
        os.close(controller)
        os.close(peer)


def write_config(tmp_path: Path, extra: str) -> Path:
    (tmp_path / "day.mp4").write_bytes(b"x")
    path = tmp_path / "unit.toml"
    path.write_text(f'[unit]\ndata_dir = "{tmp_path / "data"}"\n'
                    f'[camera]\ntype = "file"\npath = "{tmp_path / "day.mp4"}"\n' + extra)
    return path


def rows_of(config: Path, host: Host) -> dict[str, dict[str, str]]:
    out = io.StringIO()
    doctor(config, as_json=True, out=out, host=host)
    return {r["check"]: r for r in json.loads(out.getvalue())["checks"]}


@pytest.mark.parametrize("kind", sorted(REGISTRIES))
def test_every_declared_diagnosis_imports_and_type_keys_match(kind: str) -> None:
    for b in REGISTRIES[kind]:
        type_field = b.config.model_fields["type"]
        assert b.type_key in str(type_field.annotation), (kind, b.type_key)
        if b.diagnose:
            module, _, name = b.diagnose.partition(":")
            assert callable(getattr(__import__(module, fromlist=[name]), name))


def test_queue_feed_diagnosis_shows_up_in_doctor_json(root: Path) -> None:
    config = write_config(root, '[queue]\ntype = "serial"\n')
    rows = rows_of(config, Host(root=root / "root", importer=no_modules))
    assert rows["queue feed"]["status"] == "ok"
    assert rows["queue feed"]["found"].startswith("/dev/counterunit-queue -> ")
    (root / "root/dev/counterunit-queue").unlink()
    rows = rows_of(config, Host(root=root / "root", importer=no_modules))
    assert rows["queue feed"]["status"] == "FAIL"
    assert rows["queue feed"]["found"] == "/dev/counterunit-queue: not present"


def test_counterunit_doctor_json_command_has_the_rows(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "data").mkdir()
    config = write_config(tmp_path, '[queue]\ntype = "serial"\nurl = "loop://"\n'
                          f'[badge]\ntype = "evdev"\ndevice = "{tmp_path / "no-such-kbd"}"\n')
    main(["doctor", "--json", "--config", str(config)])
    rows = {r["check"]: r for r in json.loads(capsys.readouterr().out)["checks"]}
    assert rows["queue feed"] == {"check": "queue feed", "status": "warn",
                                  "found": "pyserial URL loop://: not a device file",
                                  "fix": "loop:// is a test set-up"}
    # The evdev reader's own diagnosis (group input, not dialout) answers for the badge row.
    assert rows["badge reader"]["found"] == f"{tmp_path / 'no-such-kbd'}: not present"


def test_a_back_end_without_diagnosis_adds_no_row(root: Path) -> None:
    config = write_config(root, '[queue]\ntype = "http"\nurl = "http://127.0.0.1:9/q"\n')
    rows = rows_of(config, Host(root=root / "root", importer=no_modules))
    assert "queue feed" not in rows and "queue" not in rows


def test_backend_without_diagnose_returns_no_rows() -> None:
    b = Backend("http", QUEUE_FEEDS[1].config, QUEUE_FEEDS[1].target)
    assert b.diagnostics(QUEUE_FEEDS[1].config.model_validate(
        {"type": "http", "url": "http://127.0.0.1:9/q"}), Host()) == []
