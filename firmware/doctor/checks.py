"""Host checks of ``counterunit doctor``: config file, models, data dir, clock, HQ identity.

Device checks are collected in cameras.py and devices.py (the rows themselves are the hal
back-ends'); the row type and the ``Host`` every check takes are in host.py.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from firmware.config.unit import DEFAULT_CONFIG_PATH, ConfigError, UnitConfig, load_config
from firmware.doctor.host import CheckResult, Host, Status

GIB = 1 << 30
MIB = 1 << 20
FREE_WARN_BYTES = 2 * GIB
FREE_FAIL_BYTES = 500 * MIB
CERT_WARN_DAYS = 30


def check_config(path: Path | None) -> tuple[CheckResult, UnitConfig | None]:
    """Load the config (the default one without ``path``); every problem in the row."""
    given = path is not None
    path = path or DEFAULT_CONFIG_PATH
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        if exc.problems == ["file not found"]:
            how = "" if given else " (the default; no --config given)"
            return CheckResult("config", "FAIL", f"{path}: missing{how}",
                               f"copy docs/unit.example.toml to {DEFAULT_CONFIG_PATH} and edit "
                               "it, or pass --config FILE"), None
        problems = "\n".join(exc.problems)
        return CheckResult("config", "FAIL", f"{path}: {len(exc.problems)} problem(s)\n{problems}",
                           f"fix them; `counterunit check-config {path}` lists them again"), None
    zones = ", ".join(cfg.zones)
    return CheckResult("config", "ok", f"{path}: unit {cfg.unit.unit_id}, "
                       f"camera {cfg.camera.type}, zones {zones}"), cfg


def check_models(models_dir: Path | None) -> CheckResult:
    from vision.analyzer import default_models_dir
    from vision.models.manifest import load_manifest, verify

    folder = models_dir or default_models_dir()
    names = list(load_manifest()["models"])
    bad = verify(folder)
    if bad:
        return CheckResult("models", "FAIL",
                           f"{folder}: missing or sha256 mismatch: {', '.join(bad)}",
                           "make models (or python -m vision.models.fetch --dest "
                           f"{folder})")
    return CheckResult("models", "ok", f"{folder}: {len(names)} models, sha256 ok")


def grade_free_space(free: int) -> tuple[Status, str]:
    """Free bytes on the data partition -> status and a short text."""
    text = f"{free / GIB:.1f} GiB free"
    if free < FREE_FAIL_BYTES:
        return "FAIL", f"{text} (< {FREE_FAIL_BYTES // MIB} MiB)"
    if free < FREE_WARN_BYTES:
        return "warn", f"{text} (< {FREE_WARN_BYTES // GIB} GiB)"
    return "ok", text


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def _write_probe(folder: Path) -> str:
    """'' when a file can be created in ``folder`` (catches read-only mounts), else why not."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
            pass
    except OSError as exc:
        return exc.strerror or str(exc)
    return ""


def check_data_dir(data_dir: Path, host: Host, default: bool = False) -> CheckResult:
    """Exists (or can be made), writable, enough free space for clips."""
    name = "data dir"
    note = " (default; no valid config)" if default else ""
    if data_dir.exists() and not data_dir.is_dir():
        return CheckResult(name, "FAIL", f"{data_dir}{note}: not a folder",
                           "point unit.data_dir at a folder")
    folder = data_dir if data_dir.exists() else _nearest_existing(data_dir.parent)
    writable = host.access(folder, os.W_OK | os.X_OK)
    why = _write_probe(folder) if writable else "permission denied"
    status, space = grade_free_space(host.disk_free(folder))
    if not data_dir.exists():
        if why:
            return CheckResult(name, "FAIL", f"{data_dir}{note}: missing, and {folder} is not "
                               f"writable by {host.user()} ({why})",
                               f"mkdir -p {data_dir} && chown {host.user()} {data_dir}")
        status = "warn" if status == "ok" else status
        return CheckResult(name, status, f"{data_dir}{note}: missing (made at first start); "
                           f"{space}", f"mkdir -p {data_dir} on the data partition")
    if why:
        return CheckResult(name, "FAIL", f"{data_dir}{note}: not writable by {host.user()} "
                           f"({why}); {space}", f"chown {host.user()} {data_dir}")
    fix = {"ok": "", "warn": "free space: old clips are kept until HQ has them",
           "FAIL": "free space now: the unit cannot record"}[status]
    return CheckResult(name, status, f"{data_dir}{note}: writable, {space}", fix)


def check_clock(host: Host) -> CheckResult:
    now = host.now().strftime("%Y-%m-%d %H:%M:%S UTC")
    if host.clock_synced():
        return CheckResult("clock sync", "ok", f"synchronised (NTP), {now}")
    return CheckResult("clock sync", "warn", f"not synchronised, {now}",
                       "enable time sync: timedatectl set-ntp true (events are marked "
                       "unsynchronised until then)")


def check_identity(cfg: UnitConfig | None, host: Host) -> CheckResult:
    """With [sync]: enrolled, certificate for this unit, usable, days to expiry."""
    name = "HQ identity"
    if cfg is None:
        return CheckResult(name, "n/a", "no valid config")
    if cfg.sync is None:
        return CheckResult(name, "n/a", "no [sync] section: the unit keeps everything locally")
    from cryptography.x509.oid import NameOID

    from sync.identity import IdentityError, UnitIdentity

    identity = UnitIdentity(cfg.sync.identity_dir or cfg.unit.data_dir / "identity")
    enroll = f"counterunit enroll --hq {cfg.sync.hq_url} --code CODE"
    if not identity.is_enrolled():
        what = "no key" if not identity.has_key() else "key but no certificate"
        return CheckResult(name, "FAIL", f"{identity.directory}: not enrolled ({what})", enroll)
    key_mode = stat.S_IMODE(identity.key_path.stat().st_mode)
    if key_mode & 0o077:
        return CheckResult(name, "FAIL", f"{identity.key_path}: mode {key_mode:o}, others can "
                           "read the unit key", f"chmod 600 {identity.key_path}")
    try:
        identity.client_ssl_context()
        cert = identity.certificate()
    except (IdentityError, OSError, ValueError) as exc:
        return CheckResult(name, "FAIL", f"{identity.directory}: {exc}", enroll)
    cn = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if cn and cn[0] != cfg.unit.unit_id:
        return CheckResult(name, "FAIL", f"certificate is for unit {cn[0]!r}, config says "
                           f"{cfg.unit.unit_id!r}", f"fix unit.unit_id or re-enroll: {enroll}")
    left = cert.not_valid_after_utc - host.now()
    days = left.days
    until = cert.not_valid_after_utc.strftime("%Y-%m-%d")
    if left.total_seconds() <= 0:
        return CheckResult(name, "FAIL", f"certificate expired {-days} day(s) ago ({until})",
                           f"re-enroll with a new code: {enroll}")
    status: Status = "warn" if days < CERT_WARN_DAYS else "ok"
    return CheckResult(name, status, f"unit {cfg.unit.unit_id}: certificate valid until {until} "
                       f"({days} days)", f"renew soon: {enroll}" if status == "warn" else "")
