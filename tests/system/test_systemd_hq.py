"""systemd/counterunit-hq@.service as systemd itself reads it (verify, security score),
and HQ's reverse-proxy example (docs/hq-deploy.nginx.conf) as nginx itself reads it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.system.test_systemd_units import HARDENING, SYSCALL_FILTER

REPO = Path(__file__).resolve().parents[2]
UNIT = "counterunit-hq@.service"
EXEC = "opt/counterunit/venv/bin/counterunit"
MAX_EXPOSURE = 1.5

needs = pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze missing")


def _root(tmp: Path, text: str, exec_exists: bool = True) -> Path:
    root = tmp / "root"
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    (root / "etc/systemd/system" / UNIT).write_text(text)
    if exec_exists:
        exe = root / EXEC
        exe.parent.mkdir(parents=True)
        exe.write_text("#!/bin/sh\n")
        exe.chmod(0o755)
    return root


def _verify(root: Path) -> str:
    r = subprocess.run(["systemd-analyze", "verify", f"--root={root}", "--man=no",
                        "--generators=no", "counterunit-hq@8443.service"],
                       capture_output=True, text=True, timeout=60)
    return f"{r.returncode} {r.stdout}{r.stderr}".strip()


@needs
def test_verify_says_nothing(tmp_path: Path) -> None:
    assert _verify(_root(tmp_path, (REPO / "systemd" / UNIT).read_text())) == "0"


@needs
def test_verify_would_catch_a_bad_key(tmp_path: Path) -> None:
    text = (REPO / "systemd" / UNIT).read_text().replace("Restart=always",
                                                          "Restart=sometimes\nWorkers=2")
    out = _verify(_root(tmp_path, text, exec_exists=False))
    assert "Unknown key 'Workers'" in out and "sometimes" in out
    assert "is not executable" in out


@needs
def test_exposure_under_threshold() -> None:
    r = subprocess.run(["systemd-analyze", "security", "--offline=true",
                        str(REPO / "systemd" / UNIT)], capture_output=True, text=True,
                       timeout=60, check=True)
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", r.stdout)
    assert found and float(found.group(1)) <= MAX_EXPOSURE, r.stdout[-2000:]


def test_hardened_like_the_device_units() -> None:
    values: dict[str, list[str]] = {}
    for raw in (REPO / "systemd" / UNIT).read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith(("#", "[")) and "=" in line:
            k, v = line.split("=", 1)
            values.setdefault(k, []).append(v)
    want = {**HARDENING, "ReadWritePaths": "/var/lib/counterunit-hq", "UMask": "0077",
            "PrivateDevices": "yes", "MemoryDenyWriteExecute": "yes"}
    wrong = {k: values.get(k) for k, v in want.items() if values.get(k) != [v]}
    assert not wrong
    assert values["SystemCallFilter"] == SYSCALL_FILTER
    assert values["User"] == ["counterunit-hq"]
    assert "--host 127.0.0.1 --port %i" in values["ExecStart"][0]


@pytest.mark.skipif(not shutil.which("nginx"), reason="nginx missing (apt nginx-light)")
def test_nginx_example_is_valid(tmp_path: Path) -> None:
    """The example site inside a minimal nginx.conf, with throwaway certificates."""
    for name in ("server", "units-ca"):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj",
                        f"/CN={name}", "-keyout", str(tmp_path / f"{name}.key"), "-out",
                        str(tmp_path / f"{name}.pem")], check=True, capture_output=True,
                       timeout=60)
    site = (REPO / "docs" / "hq-deploy.nginx.conf").read_text()
    site = (site.replace("/etc/nginx/tls/hq.pem", str(tmp_path / "server.pem"))
            .replace("/etc/nginx/tls/hq.key", str(tmp_path / "server.key"))
            .replace("/etc/nginx/tls/counterunit-units-ca.pem",
                     str(tmp_path / "units-ca.pem")))
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
                    f"events {{}}\nhttp {{\naccess_log off;\n{site}\n}}\n")
    r = subprocess.run(["nginx", "-t", "-c", str(conf), "-p", str(tmp_path)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    broken = conf.read_text().replace("ssl_verify_client optional_no_ca;",
                                      "ssl_verify_client sometimes;")
    conf.write_text(broken)
    r = subprocess.run(["nginx", "-t", "-c", str(conf), "-p", str(tmp_path)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
