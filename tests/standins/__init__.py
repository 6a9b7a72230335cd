"""Faithful stand-ins for vendor camera APIs that cannot run here.

Each sub-package mirrors the real package's import path and the signatures the
product code uses, records every call, and replays real video. Tests put
``STANDINS`` on ``sys.path`` (never the product code), so ``import picamera2``
inside a back-end finds the stand-in.
"""

from pathlib import Path

STANDINS = Path(__file__).resolve().parent
