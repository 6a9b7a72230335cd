"""``counterunit demo``: a simulated counter day, end to end, on this machine.

Composes a counter scene from photographs of people that ship in packages,
synthesises the counter's sound, and runs the real unit on it: the file camera,
a WAV microphone, a keypad simulator and a badge reader on real pseudo-terminals,
the real detectors, store and recorder. Beside it an embedded HQ enrolls the
unit and the sync process sends it everything; then it prints what a
supervisor would see, and what an HQ auditor finds at HQ.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import shutil
import sqlite3
import sys
import threading
import time
from pathlib import Path

from audio.synth import synth_counter_audio
from evaluator.badge_sim import BadgeSim
from evaluator.sim import KeypadSim
from firmware.config.unit import parse_config
from firmware.demo import alerts as demo_alerts
from firmware.demo.hq import (
    AUDITOR,
    auditor_view,
    enroll_unit_at_window,
    finish_hq_org,
    prepare_hq_org,
    start_sync,
    stop_sync,
    wait_drained,
    write_admin_login,
    write_sync_config,
)
from firmware.demo.summary import print_summary
from firmware.system.clock import MediaClock
from firmware.wiring.runner import open_unit
from hal.badge.uid import hash_badge_uid
from hal.pty import PtyPair
from hq.server.embedded import EmbeddedHQ, running_hq
from sync.outbox import Backlog
from vision.compose.scenes import compose, scene

DEMO_MARKER = ".counterunit-demo"
DEMO_UNIT = "demo-unit"
DEMO_COUNTER = "counter-07"
SYNC_DRAIN_S = 120.0
DEMO_BADGE = "04A1B2C3D4"
DEMO_SALT = "demo-salt"
DEMO_RATINGS = (5, 4, 2, 5, 3)
DEMO_ALERTS_S = (15.0, 25.0, 35.0)


def _fresh_out(out: Path) -> None:
    """Start from an empty folder; only ever wipe a folder an earlier demo made."""
    if out.exists() and any(out.iterdir()):
        if not (out / DEMO_MARKER).exists():
            raise SystemExit(f"{out} is not empty and was not made by the demo; "
                             "choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / DEMO_MARKER).write_text("made by counterunit demo; safe to delete\n")


def _write_roster(path: Path) -> None:
    uid_hash = hash_badge_uid(DEMO_BADGE, DEMO_SALT)
    path.write_text(
        "[[staff]]\n"
        'staff_id = "s-001"\nname = "Li Na"\nstaff_number = "A1024"\nphoto_id = "P-1024"\n'
        f'badge_uid_sha256 = ["{uid_hash}"]\n'
    )


def _tap_when_listening(reader: object, badge: BadgeSim, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not getattr(reader, "is_open", True) and time.monotonic() < deadline:
        time.sleep(0.01)
    badge.tap(DEMO_BADGE)


def demo(args: argparse.Namespace) -> int:
    out: Path = args.out.resolve()
    _fresh_out(out)
    spec = scene("demo_day")
    print(f"composing a {spec.duration_s:.0f} s counter scene from packaged photographs ...",
          flush=True)
    video, wav = out / "scene.mp4", out / "scene.wav"
    truth = compose(spec, video)
    synth_counter_audio(wav, spec.duration_s, truth.intervals.get("customer", []))
    _write_roster(out / "roster.toml")

    print("starting an embedded HQ and enrolling the unit with a one-time code ...", flush=True)
    # HQ's data folder is out/hq itself, laid out as `counterunit hq serve --data` uses it.
    with running_hq(out / "hq", deployment="demo", data_dir=out / "hq") as hq, \
            demo_alerts.webhook(hq) as alerts, \
            PtyPair(out / "keypad.tty") as keypad_pty, PtyPair(out / "badge.tty") as badge_pty:
        identity_dir = out / "data" / "identity"
        enroll_unit_at_window(hq, DEMO_UNIT, prepare_hq_org(hq, DEMO_ALERTS_S), identity_dir)
        sync_cfg = write_sync_config(out / "sync.toml", unit_id=DEMO_UNIT, counter_id=DEMO_COUNTER,
                                     data_dir=out / "data", hq_url=hq.url,
                                     identity_dir=identity_dir, camera=video)
        cfg = parse_config({
            "unit": {"unit_id": DEMO_UNIT, "counter_id": DEMO_COUNTER,
                     "data_dir": out / "data"},
            "camera": {"type": "file", "path": video, "realtime": False},
            "microphone": {"type": "wav", "path": wav, "realtime": False},
            # A short day needs short thresholds to show every alert: the staff
            # member's 40 s away reaches all three off-seat levels.
            "rules": {"off_seat_alert_s": DEMO_ALERTS_S},
            "keypad": {"url": keypad_pty.path, "dissatisfied_at_or_below": 2},
            "badge": {"url": badge_pty.path},
            "roster": {"path": out / "roster.toml", "uid_salt": DEMO_SALT},
        }, "demo config")
        keypad = KeypadSim.over_fd(keypad_pty.master_fd, auto_rate=DEMO_RATINGS)
        badge = BadgeSim.over_fd(badge_pty.master_fd)
        clock = MediaClock()
        # The scene runs faster than real time: its day is dated so that it ends now,
        # not minutes ahead of the clock (status would read "dated in the future").
        day_start = (dt.datetime.now(dt.UTC).replace(microsecond=0)
                     - dt.timedelta(seconds=math.ceil(spec.duration_s)))
        unit = open_unit(cfg, media_time=True, media_clock=clock, wall_base=day_start)
        print("running the unit over it (as fast as this machine goes); off-seat alert "
              f"levels shortened to {'/'.join(f'{x:.0f}' for x in DEMO_ALERTS_S)} s for the demo"
              " ...", flush=True)
        keypad.start()
        reader = unit.devices.badge
        # The staff member taps in as the day starts. Opening a serial port flushes
        # what arrived before, so the tap waits until the unit's reader is listening.
        tapper = threading.Thread(target=_tap_when_listening, args=(reader, badge), daemon=True)
        tapper.start()
        # The sync process runs beside the unit on the same database, as on a device.
        sync = start_sync(sync_cfg, out / "sync.log")
        try:
            unit.run()
        finally:
            keypad.stop()
            unit.store.close()
            db = cfg.unit.data_dir / "counterunit.db"
            left = wait_drained(db, sync, SYNC_DRAIN_S)
            stop_sync(sync)
        ok = print_summary(db, truth.intervals.get("customer", []),
                           pre_roll_s=cfg.recording.pre_roll_s,
                           post_roll_s=cfg.recording.post_roll_s)
        ok = _print_hq(hq, db, left) and ok
        ok = alerts.report() and ok
        login = _hand_over(hq, out)
    print(f"\nWhere to look:\n  database  {db}\n"
          f"  clips     {cfg.unit.data_dir / 'clips'}\n  scene     {video}  (+ {wav.name})\n"
          f"  HQ data   {out / 'hq'}  (events.db, clips/, audit.db; sync log: {out / 'sync.log'})\n"
          f"  status    counterunit status --config {out / 'sync.toml'}\n"
          f"  replay it counterunit replay {video} --json")
    shown = args.out / "hq"  # as the user gave it (demo-output/hq from `make demo`)
    print(f"\nHQ's pages, with everything above in them:\n"
          f"  counterunit hq serve --data {shown}\n"
          f"  then open https://localhost:8443/ and log in as {login['username']} "
          f"(password in {args.out / 'hq-login.json'})")
    return 0 if ok else 1


def _hand_over(hq: EmbeddedHQ, out: Path) -> dict[str, str]:
    """Leave a complete HQ: the demo's staff and shift authored, an admin to log in with."""
    finish_hq_org(hq, [("s-001", "Li Na")], dt.datetime.now(dt.UTC))
    return write_admin_login(hq, out / "hq-login.json")


def _print_hq(hq: EmbeddedHQ, db: Path, left: Backlog) -> bool:
    """What reached HQ, seen through the HQ user API; False if anything is missing."""
    conn = sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        local_events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        clips = dict(conn.execute("SELECT clip_id, sha256 FROM clips WHERE sha256 IS NOT NULL "
                                  "AND deleted_utc IS NULL").fetchall())
    finally:
        conn.close()
    view = auditor_view(hq, DEMO_UNIT, clips)
    checks = [
        (left.events == 0 and left.clips == 0,
         f"outbox drained (left: {left.events} events, {left.clips} clips)"),
        (view.events == local_events,
         f"HQ holds {view.events} of {local_events} events, once each"),
        (view.clips_verified == len(clips) and not view.clip_mismatches,
         f"{view.clips_verified} of {len(clips)} clips at HQ with the unit's sha256"),
        (view.range_status == 206, f"Range request for playback answered {view.range_status}"),
        (view.audit_entries > 0, f"audit log holds {view.audit_entries} entries for it"),
    ]
    print(f"\nAt HQ ({hq.url}, as user {AUDITOR}): {len(view.transactions)} transactions found")
    for ok, text in checks:
        print(f"  {'ok  ' if ok else 'FAIL'} {text}")
    return all(ok for ok, _ in checks)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(demo(argparse.Namespace(out=Path("demo-output"))))
