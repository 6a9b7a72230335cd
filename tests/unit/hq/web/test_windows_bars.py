"""hq.web.live.windows_bars: server-drawn SVG bar charts."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from hq.web.live.windows_bars import Series, _nice_max, bar_chart


@pytest.mark.parametrize(("value", "top"), [(0, 1), (1, 1), (3, 5), (7, 10), (12, 20),
                                            (51, 100), (0.3, 0.5), (1000, 1000)])
def test_axis_top(value: float, top: float) -> None:
    assert _nice_max(value) == pytest.approx(top)


def test_bars_scale_to_the_axis_and_carry_their_values() -> None:
    svg = bar_chart(["1号窗口", "<W2>"], [Series("排班", [8, 4]), Series("在岗", [6, 0])],
                    title="窗口使用 & 排班", unit="h")
    root = ET.fromstring(svg)  # well-formed, labels escaped
    bars = [e for e in root.iter("{http://www.w3.org/2000/svg}rect") if "data-value" in e.attrib]
    got = [(b.attrib["data-category"], b.attrib["data-series"], b.attrib["data-value"],
            float(b.attrib["width"])) for b in bars]
    plot_w = 760 - 170 - 60  # top is 10 for a max of 8
    assert got == [("1号窗口", "排班", "8", pytest.approx(plot_w * 0.8)),
                   ("1号窗口", "在岗", "6", pytest.approx(plot_w * 0.6)),
                   ("<W2>", "排班", "4", pytest.approx(plot_w * 0.4)),
                   ("<W2>", "在岗", "0", 0.0)]
    assert "&lt;W2&gt;" in svg and "窗口使用 &amp; 排班" in svg
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", svg)


def test_mismatched_series_is_refused() -> None:
    with pytest.raises(ValueError, match="series 'x' has 1 values for 2 categories"):
        bar_chart(["a", "b"], [Series("x", [1])], title="t")
