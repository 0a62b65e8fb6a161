"""Small inline SVG charts for the editor report: no scripts, no fonts, no external files.

Charts carry no text of their own: labels, legends and axes are HTML around them, so they
stay readable when a phone shrinks the drawing, and Arabic is shaped by the browser as usual.
Each bar has an SVG ``<title>``, which browsers show as a tooltip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 600, 120
# Fewer slots than this are drawn at this width, right-aligned (the latest at the right edge),
# so one run is a bar, not a block filling the whole chart.
MIN_SLOTS = 14


@dataclass(frozen=True)
class Series:
    """One stacked layer of a bar chart."""

    key: str  # a CSS class suffix, e.g. "stored"
    label: str  # shown in tooltips
    values: Sequence[int | None]  # None: no run on that slot (drawn as a gap, not as zero)


def stacked_bars(
    slots: Sequence[str], layers: Sequence[Series], line: Series | None = None, label: str = ""
) -> str:
    """Stacked bars, one per slot (a run or a day), with an optional line on top."""
    top = scale(layers, line)
    step = WIDTH / max(len(slots), MIN_SLOTS)
    offset = WIDTH - step * len(slots)
    gap = min(step * 0.2, 6)
    parts = []
    for i, slot in enumerate(slots):
        x, y = offset + i * step + gap / 2, float(HEIGHT)
        tip = [slot] + [
            f"{s.label}: {_num(s.values[i])}" for s in (*layers, *([line] if line else []))
        ]
        rects = []
        for layer in layers:
            value = layer.values[i] or 0
            h = HEIGHT * value / top
            y -= h
            if value:
                rects.append(
                    f'<rect class="bar-{layer.key}" x="{x:.1f}" y="{y:.1f}" '
                    f'width="{step - gap:.1f}" height="{h:.1f}"/>'
                )
        # An invisible full-height target, so the tooltip shows even on an empty slot.
        left = offset + i * step
        rects.append(
            f'<rect class="hit" x="{left:.1f}" y="0" width="{step:.1f}" height="{HEIGHT}"/>'
        )
        parts.append(f"<g><title>{escape(' · '.join(tip))}</title>{''.join(rects)}</g>")
    if line:
        parts.append(_polyline(line.values, top, f"line-{line.key}", step, offset))
    return _svg("".join(parts), label)


def sparkline(values: Sequence[float | None], label: str = "") -> str:
    """A line of rates between 0 and 1 (e.g. a check's pass rate per run)."""
    step = WIDTH / max(len(values), MIN_SLOTS)
    scaled = [None if v is None else v * HEIGHT for v in values]
    body = _polyline(scaled, HEIGHT, "spark", step, WIDTH - step * len(values))
    return _svg(body, label, css_class="sparkline")


def scale(layers: Sequence[Series], line: Series | None = None) -> float:
    """The value at the top of the chart: the highest stack or line point (at least 1)."""
    stacks = [sum(v or 0 for v in slot) for slot in zip(*(s.values for s in layers), strict=True)]
    peaks = [*stacks, *(v or 0 for v in (line.values if line else ()))]
    return float(max([1, *peaks]))


def _polyline(
    values: Sequence[float | None], top: float, css_class: str, step: float, offset: float
) -> str:
    """Segments through the known points; a None breaks the line."""
    runs: list[list[str]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            runs.append([])
            continue
        y = HEIGHT - HEIGHT * value / top
        x = offset + i * step + step / 2
        runs[-1].append(f"{x:.1f},{min(max(y, 1.0), HEIGHT - 1.0):.1f}")
    shapes = []
    for points in filter(None, runs):
        if len(points) == 1:  # a lone point: a dash across its slot, so it is visible
            x, y = (float(p) for p in points[0].split(","))
            points = [f"{x - step * 0.4:.1f},{y:.1f}", f"{x + step * 0.4:.1f},{y:.1f}"]
        shapes.append(
            f'<polyline class="{css_class}" points="{" ".join(points)}" fill="none" '
            'vector-effect="non-scaling-stroke"/>'
        )
    return "".join(shapes)


def _svg(body: str, label: str, css_class: str = "chart") -> str:
    return (
        f'<svg class="{css_class}" viewBox="0 0 {WIDTH} {HEIGHT}" preserveAspectRatio="none" '
        f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )


def _num(value: int | None) -> str:
    return "—" if value is None else str(value)
