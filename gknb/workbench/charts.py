"""Small server-side SVG charts with axes and values (no script, no CDN). Every piece of text
goes through markupsafe.escape."""

from __future__ import annotations

import math

from markupsafe import Markup, escape

INK, MUTED, GRID, BAR, NONE = "#1f2d3d", "#6b7785", "#e6e9ed", "#3b7dd8", "#d5d8dc"


def nice_ticks(top: float, count: int = 4, whole: bool = False) -> list[float]:
    """0 .. a round number >= top in `count` steps (1, 2, 2.5, 5 x 10^k); whole numbers only
    when `whole` (counts)."""
    if not top or top <= 0:
        return [0, 1]
    raw = top / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    if step >= 1 or whole:
        step = max(1, math.ceil(step))
    n = math.ceil(top / step)
    return [round(i * step, 6) for i in range(n + 1)]


def _fmt(v: float) -> str:
    if v is None:
        return ""
    if abs(v - round(v)) < 1e-9:
        return f"{int(round(v)):,}"
    return f"{v:,.2f}"


def bar_chart(points: list[tuple[str, float | None]], *, title: str, unit: str = "", width: int = 420,
              height: int = 190, css_class: str = "chart") -> Markup:
    """One bar per x label with its value printed on top; a missing value is a grey stub marked
    'no value'. Axes: x labels under the bars, y ticks with grid lines."""
    left, right, top, bottom = 52, 10, 26, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, v in points if v is not None]
    hi = max(values or [0])
    lo = min(values + [0])
    whole = all(float(v).is_integer() for v in values)
    ticks = nice_ticks(hi if hi > 0 else 1, whole=whole)
    scale_top = ticks[-1] or 1
    neg = -nice_ticks(-lo, whole=whole)[-1] if lo < 0 else 0
    span = scale_top - neg

    def y(v: float) -> float:
        return top + plot_h * (scale_top - v) / span

    out = [f'<svg class="{escape(css_class)}" width="{width}" height="{height}" role="img" '
           f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
           f'<text x="{left}" y="14" font-weight="600" fill="{INK}" font-size="13">{escape(title)}'
           f'{escape(" (" + unit + ")") if unit else ""}</text>']
    for t in ticks + ([neg] if neg else []):
        ty = y(t)
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="{GRID}"/>'
                   f'<text class="tick" x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end" fill="{MUTED}" font-size="11">{escape(_fmt(t))}</text>')
    out.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="{MUTED}"/>'
               f'<line x1="{left}" x2="{width - right}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="{MUTED}"/>')
    n = max(1, len(points))
    slot = plot_w / n
    bw = min(44.0, slot * 0.62)
    for i, (label, v) in enumerate(points):
        cx = left + slot * (i + 0.5)
        out.append(f'<text class="xlabel" x="{cx:.1f}" y="{height - 10}" text-anchor="middle" fill="{INK}" font-size="11">{escape(label)}</text>')
        if v is None:
            out.append(f'<g class="bar missing"><title>{escape(label)}: no value</title>'
                       f'<rect x="{cx - bw / 2:.1f}" y="{y(0) - 2:.1f}" width="{bw:.1f}" height="2" fill="{NONE}"/>'
                       f'<text x="{cx:.1f}" y="{y(0) - 6:.1f}" text-anchor="middle" fill="{MUTED}" font-size="10">no value</text></g>')
            continue
        y0, y1 = sorted((y(0), y(v)))
        out.append(f'<g class="bar"><title>{escape(label)}: {escape(_fmt(v))}</title>'
                   f'<rect x="{cx - bw / 2:.1f}" y="{y0:.1f}" width="{bw:.1f}" height="{max(0.5, y1 - y0):.1f}" fill="{BAR}"/>'
                   f'<text class="value" x="{cx:.1f}" y="{(y(v) - 5 if v >= 0 else y(v) + 12):.1f}" text-anchor="middle" fill="{INK}" font-size="11">{escape(_fmt(v))}</text></g>')
    out.append("</svg>")
    return Markup("".join(out))


def rate_line(points: list[tuple[str, float | None, str]], *, title: str, width: int = 640, height: int = 200) -> Markup:
    """A pass-rate line (0–100 %) over labelled points (e.g. check runs), each point's value
    printed; `points` are (x label, rate 0..1 or None, tooltip)."""
    left, right, top, bottom = 44, 16, 26, 34
    plot_w, plot_h = width - left - right, height - top - bottom

    def y(r: float) -> float:
        return top + plot_h * (1 - r)

    out = [f'<svg class="chart trend" width="{width}" height="{height}" role="img" aria-label="{escape(title)}" '
           f'xmlns="http://www.w3.org/2000/svg">',
           f'<text x="{left}" y="14" font-weight="600" fill="{INK}" font-size="13">{escape(title)}</text>']
    for t in (0, 0.25, 0.5, 0.75, 1):
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="{GRID}"/>'
                   f'<text class="tick" x="{left - 6}" y="{y(t) + 4:.1f}" text-anchor="end" fill="{MUTED}" font-size="11">{int(t * 100)}%</text>')
    out.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="{MUTED}"/>')
    n = len(points)
    xs = [left + (plot_w * (i + 0.5) / n) for i in range(n)]
    line = " ".join(f"{x:.1f},{y(r):.1f}" for x, (_, r, _) in zip(xs, points) if r is not None)
    if line:
        out.append(f'<polyline points="{line}" fill="none" stroke="{BAR}" stroke-width="2"/>')
    every = max(1, math.ceil(n / 8))
    for i, (x, (label, r, tip)) in enumerate(zip(xs, points)):
        if i % every == 0 or i == n - 1:
            out.append(f'<text class="xlabel" x="{x:.1f}" y="{height - 12}" text-anchor="middle" fill="{INK}" font-size="10">{escape(label)}</text>')
        if r is None:
            continue
        out.append(f'<g class="point"><title>{escape(tip)}</title><circle cx="{x:.1f}" cy="{y(r):.1f}" r="4" fill="{BAR}"/>'
                   f'<text class="value" x="{x:.1f}" y="{y(r) - 8:.1f}" text-anchor="middle" fill="{INK}" font-size="10">{r * 100:.0f}%</text></g>')
    out.append("</svg>")
    return Markup("".join(out))


PASS_COLOURS = ("#c0392b", "#e67e22", "#f1c40f", "#9bc53d", "#27ae60")  # 0% .. 100% passing


def pass_colour(rate: float | None) -> str:
    if rate is None:
        return NONE
    return PASS_COLOURS[min(len(PASS_COLOURS) - 1, int(rate * (len(PASS_COLOURS) - 1) + 0.5))]
