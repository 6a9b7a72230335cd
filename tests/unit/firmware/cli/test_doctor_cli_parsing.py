"""Argument parsing of the installer subcommands, as hooked into a parser by add_parsers."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from firmware.cli.install import add_parsers


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="counterunit")
    add_parsers(p.add_subparsers(dest="command", required=True))
    return p


def test_doctor_arguments() -> None:
    args = parser().parse_args(["doctor"])
    assert args.config is None and args.json is False and callable(args.func)
    args = parser().parse_args(["doctor", "--config", "/tmp/u.toml", "--json"])
    assert args.config == Path("/tmp/u.toml") and args.json is True


def test_zones_snapshot_arguments() -> None:
    args = parser().parse_args(["zones", "snapshot", "--out", "z.png"])
    assert (args.out, args.frames, args.config) == (Path("z.png"), 5, None)
    args = parser().parse_args(["zones", "snapshot", "--out", "z.png", "--frames", "12"])
    assert args.frames == 12


@pytest.mark.parametrize("argv,message", [
    (["zones", "snapshot"], "--out"),
    (["zones", "snapshot", "--out", "z.png", "--frames", "0"], "from 1 to 100"),
    (["zones", "snapshot", "--out", "z.png", "--frames", "many"], "from 1 to 100"),
    (["zones"], "snapshot"),
])
def test_bad_arguments(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        parser().parse_args(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err
