"""The presence suite's real clips: hand-annotated truth files in tests/data/presence/.

Each truth file names its video (an absolute path to footage a package ships,
e.g. opencv-doc's vtest.avi) and the zones the replay puts on it; see the
README there for the source, the licence and how the truth was annotated.
"""

from __future__ import annotations

from pathlib import Path

from vision.evalsuite.truth import Truth, TruthError, load_truth

REAL_DIR = Path(__file__).resolve().parents[2] / "tests" / "data" / "presence"


def real_cases(folder: Path = REAL_DIR) -> list[tuple[Path, Truth]]:
    """(video path, truth) per real clip, sorted by file name.

    A missing video is a TruthError naming the truth file and the video
    (the footage comes from a package the set-up installs, never a download).
    """
    out: list[tuple[Path, Truth]] = []
    for path in sorted(folder.glob("*.json")):
        truth = load_truth(path)
        video = folder / truth.video
        if not video.is_file():
            raise TruthError(f"{path}: video {truth.video} not found "
                             "(installed by the set-up: make setup, APT_PACKAGES)")
        out.append((video, truth))
    return out


def real_names(folder: Path = REAL_DIR) -> list[str]:
    """The real clips' case names (their truth files' stems)."""
    return [p.stem for p in sorted(folder.glob("*.json"))]
