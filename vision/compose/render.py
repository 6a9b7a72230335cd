"""Rendering composed scenes to RGB frames (numpy, deterministic)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from PIL import Image

from vision.compose.actors import actor
from vision.compose.spec import Appearance, Background, Passer, SceneSpec


def _resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    return np.asarray(
        Image.fromarray(image).resize((max(1, width), max(1, height)), Image.Resampling.LANCZOS)
    )


def _fit(image: np.ndarray, max_w: int, max_h: int) -> np.ndarray:
    """Scale to ``max_h`` tall, or narrower if that would exceed ``max_w``."""
    h, w = image.shape[:2]
    scale = min(max_h / h, max_w / w)
    return _resize(image, round(w * scale), round(h * scale))


def render_background(bg: Background, width: int, height: int) -> np.ndarray:
    """A plausible empty counter: textured wall with panel seams, a poster, a wooden desk."""
    rng = np.random.default_rng(bg.seed)

    def noise(rows: int, cols: int, cell: int) -> np.ndarray:
        # Texture at a scale of ``cell`` pixels: plausible plaster and wood, and
        # cheap to encode (per-pixel noise makes every keyframe huge).
        small = rng.normal(0, 1, (rows // cell + 2, cols // cell + 2)).astype(np.float32)
        return np.asarray(
            Image.fromarray(small).resize((cols, rows), Image.Resampling.BICUBIC), np.float32
        )

    ys = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    wall = np.array([212, 203, 184], np.float32) - 28 * ys  # light falls off downwards
    texture = 6 * noise(height, width, 40) + 2.5 * noise(height, width, 4)
    img = np.broadcast_to(wall + texture[..., None], (height, width, 3)).copy()
    for x in range(width // 5, width, width // 5):  # panel seams
        img[:, x : x + 3] *= 0.82
    desk_y = int(bg.desk_top * height)
    grain = np.sin(np.arange(height - desk_y, dtype=np.float32) * 0.9)[:, None] * 6
    grain = grain + 4 * noise(height - desk_y, width, 6)
    img[desk_y:] = np.array([142, 98, 60], np.float32) + grain[..., None]
    img[desk_y : desk_y + max(2, height // 90)] = (188, 150, 110)  # worn front edge
    out = np.clip(img, 0, 255).astype(np.uint8)
    for poster in bg.posters:
        pic = actor(poster.actor).image()
        ph = int(poster.height * height)
        pic = _fit(pic, width, ph)
        border = max(3, ph // 40)
        framed = np.full((pic.shape[0] + 2 * border, pic.shape[1] + 2 * border, 3), 245, np.uint8)
        framed[border:-border, border:-border] = pic
        _paste(out, framed, int(poster.x * width), int(poster.y * height))
    return out


def _paste(
    dst: np.ndarray,
    src: np.ndarray,
    x: int,
    y: int,
    clip: tuple[int, int, int, int] | None = None,
) -> None:
    """Copy ``src`` with its top-left at (x, y), clipped to the frame and to ``clip``."""
    cx0, cy0, cx1, cy1 = clip if clip else (0, 0, dst.shape[1], dst.shape[0])
    x0, y0 = max(x, cx0), max(y, cy0)
    x1, y1 = min(x + src.shape[1], cx1), min(y + src.shape[0], cy1)
    if x1 > x0 and y1 > y0:
        dst[y0:y1, x0:x1] = src[y0 - y : y1 - y, x0 - x : x1 - x]


def _phase(name: str, k: int) -> float:
    return (sum(map(ord, name)) * 0.37 + k * 1.7) % (2 * math.pi)


class Renderer:
    """Renders frames of one spec; scaled actor images are prepared once."""

    def __init__(self, spec: SceneSpec) -> None:
        self.spec = spec
        self.width, self.height = spec.size
        self.background = render_background(spec.background, self.width, self.height)
        self.desk_y = int(spec.background.desk_top * self.height)
        self._sprites: dict[tuple[str, int, int], np.ndarray] = {}

    def _sprite(self, name: str, max_w: int, max_h: int) -> np.ndarray:
        key = (name, max_w, max_h)
        if key not in self._sprites:
            self._sprites[key] = _fit(actor(name).image(), max_w, max_h)
        return self._sprites[key]

    def passer_span(self, p: Passer, zone: str) -> tuple[float, float] | None:
        """When the passer overlaps ``zone`` (start, end in seconds), or None if never."""
        sprite = self._sprite(p.actor, self.width, int(p.height * self.height))
        half = sprite.shape[1] / 2 / self.width
        z = self.spec.zone(zone)
        # Centre positions at which the sprite touches the zone, as path fractions.
        a = (z.x0 - half - p.x_from) / (p.x_to - p.x_from)
        b = (z.x1 + half - p.x_from) / (p.x_to - p.x_from)
        lo, hi = max(0.0, min(a, b)), min(1.0, max(a, b))
        if hi <= lo:
            return None
        span = p.end - p.start
        return p.start + lo * span, p.start + hi * span

    def _draw_passer(self, out: np.ndarray, p: Passer, t: float) -> None:
        if not p.start <= t < p.end:
            return
        sprite = self._sprite(p.actor, self.width, int(p.height * self.height))
        progress = (t - p.start) / (p.end - p.start)
        cx = (p.x_from + (p.x_to - p.x_from) * progress) * self.width
        _paste(out, sprite, int(cx - sprite.shape[1] / 2), self.desk_y + 20 - sprite.shape[0])

    def _draw_appearance(self, out: np.ndarray, k: int, a: Appearance, t: float) -> None:
        if not a.start <= t < a.end or any(h0 <= t < h1 for h0, h1 in a.hidden):
            return
        zx0, zy0, zx1, zy1 = self.spec.zone(a.zone).pixels(self.width, self.height)
        zw, zh = zx1 - zx0, zy1 - zy0
        sprite = self._sprite(a.actor, int(zw * 0.96), int(zh * a.height))
        sh, sw = sprite.shape[:2]
        # Slide in from (and out to) the frame edge nearest the zone.
        towards_left = (zx0 + zx1) / 2 < self.width / 2
        off_stage = (zw + sw) / 2
        enter = min(1.0, (t - a.start) / a.enter_s) if a.enter_s > 0 else 1.0
        leave = min(1.0, (a.end - t) / a.leave_s) if a.leave_s > 0 else 1.0
        slide = (1.0 - min(enter, leave)) * off_stage * (-1 if towards_left else 1)
        dx = a.jitter_px * math.sin(2 * math.pi * t / 3.7 + _phase(a.actor, k))
        dy = 0.5 * a.jitter_px * math.sin(2 * math.pi * t / 2.9 + _phase(a.zone, k))
        x = zx0 + (zw - sw) / 2 + a.x_shift * zw + slide + dx
        y = zy1 - sh + 8 + dy
        _paste(out, sprite, round(x), round(y), (zx0, zy0, zx1, zy1))

    def light(self, t: float) -> float:
        """Lighting factor at ``t`` (1.0 = normal)."""
        f = 1.0
        for lt in self.spec.lighting:
            if lt.start <= t <= lt.end:
                ramp = min(t - lt.start, lt.end - t)
                weight = 1.0 if lt.ramp_s <= 0 else min(1.0, ramp / lt.ramp_s)
                f *= 1.0 + (lt.factor - 1.0) * weight
        return f

    def frame(self, t: float) -> np.ndarray:
        """The RGB frame at time ``t``."""
        out = self.background.copy()
        for p in self.spec.passers:
            self._draw_passer(out, p, t)
        for k, a in enumerate(self.spec.appearances):
            self._draw_appearance(out, k, a, t)
        out[self.desk_y :] = self.background[self.desk_y :]  # people stand behind the desk
        f = self.light(t)
        if abs(f - 1.0) > 1e-3:
            lut = np.clip(np.arange(256, dtype=np.float32) * f, 0, 255).astype(np.uint8)
            out = lut[out]
        if self.spec.grayscale:
            luma = out.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
            out = np.repeat(np.clip(luma, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
        return out


def render(spec: SceneSpec) -> Iterator[tuple[float, np.ndarray]]:
    """(t, frame) for every frame of the scene, in order."""
    renderer = Renderer(spec)
    for i in range(spec.frame_count):
        t = i / spec.fps
        yield t, renderer.frame(t)
