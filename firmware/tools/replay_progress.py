"""A progress line for ``counterunit replay`` on a terminal: media seconds done of the video's.

Shown on stderr only when it is a terminal and ``--json`` is off, so pipes, tests and the
JSON lines stay as they were. The line reads the media clock at each refresh, so it costs
the replay nothing per frame.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.text import Text


def media_seconds(video: Path) -> float | None:
    """The video's duration in seconds, or None when the container does not say."""
    import av

    try:
        with av.open(str(video)) as container:
            if container.duration is not None:
                return float(container.duration) / 1_000_000  # av.time_base
            stream = container.streams.video[0]
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
    except (av.error.FFmpegError, IndexError, OSError):
        return None
    return None


def progress_text(done_s: float, total_s: float | None) -> str:
    """``12.3 s of 95.0 s of media (13 %)``, or only the seconds done without a total."""
    if not total_s or total_s <= 0:
        return f"{done_s:.1f} s of media"
    share = min(max(done_s / total_s, 0.0), 1.0)
    return f"{done_s:.1f} s of {total_s:.1f} s of media ({share:.0%})"


class _Line:
    def __init__(self, now: Callable[[], float], total_s: float | None) -> None:
        self.now, self.total_s = now, total_s

    def __rich__(self) -> RenderableType:
        done = self.now()
        text = Text(f"replay  {progress_text(done, self.total_s)}")
        if not self.total_s:
            return text
        return Group(ProgressBar(total=self.total_s, completed=min(done, self.total_s),
                                 width=40), text)


@contextlib.contextmanager
def replay_progress(video: Path, now: Callable[[], float], *, enabled: bool) -> Iterator[None]:
    """Show the line while the block runs, if ``enabled`` and stderr is a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield
        return
    console = Console(stderr=True)
    with Live(_Line(now, media_seconds(video)), console=console, transient=True,
              refresh_per_second=4):
        yield
