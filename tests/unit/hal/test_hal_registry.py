"""Back-ends by type key: every config model has one back-end, loaded only when opened."""

from __future__ import annotations

import subprocess
import sys
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from hal.camera.backends import CAMERAS
from hal.camera.config import CameraConfig, FileCameraConfig
from hal.mic.backends import MICROPHONES
from hal.mic.config import MicrophoneConfig, SilentMicConfig
from hal.queue.backends import QUEUE_FEEDS
from hal.queue.config import QueueConfig
from hal.registry import Backend, backend_for, open_backend

KINDS = [(CAMERAS, CameraConfig), (MICROPHONES, MicrophoneConfig), (QUEUE_FEEDS, QueueConfig)]


def _members(union: object) -> set[type[BaseModel]]:
    return set(typing.get_args(typing.get_args(union)[0]))


@pytest.mark.parametrize(("backends", "union"), KINDS)
def test_one_backend_per_config_model(backends: tuple[Backend, ...], union: object) -> None:
    assert {b.config for b in backends} == _members(union)
    for b in backends:
        literal = b.config.model_fields["type"].annotation
        assert typing.get_args(literal) == (b.type_key,)
        assert callable(getattr(b.load(), "from_config", None)), b.target


def test_listing_backends_imports_no_backend_module() -> None:
    code = ("import sys, hal.camera.backends, hal.mic.backends, hal.queue.backends\n"
            "print(sorted(m for m in sys.modules if m.startswith(('hal.camera.', 'hal.mic.',"
            " 'hal.queue.', 'depthai', 'picamera2', 'sounddevice', 'av')) and m.split('.')[-1]"
            " not in ('backends', 'config', 'mic', 'queue')"
            " and m != 'hal.camera.depthai'))\n")  # the package of depthai's config: a docstring
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout.strip()
    assert out == "[]", out


def test_open_builds_the_configured_backend_without_starting_it(tmp_path: Path) -> None:
    from hal.camera.file.camera import FileCamera
    from hal.mic.silent import SilentMicrophone

    file_cfg = FileCameraConfig.model_validate({"path": tmp_path / "none.mp4"})
    cam = open_backend(CAMERAS, file_cfg, lambda: 0.0)
    assert isinstance(cam, FileCamera)  # the file is read at start(), not here
    mic = open_backend(MICROPHONES, SilentMicConfig.model_validate({"sample_rate": 8000}),
                       lambda: 12.5)
    assert isinstance(mic, SilentMicrophone)


def test_an_unlisted_model_names_the_known_types(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="known: wav, silent, sounddevice"):
        backend_for(MICROPHONES, FileCameraConfig.model_validate({"path": tmp_path / "x.mp4"}))
