"""Charts as inline SVG: pure functions from numbers to markup, nothing loaded from elsewhere, so
the report page and the console can embed them as they are. Every chart has a title and a text
description (role="img", <title>, <desc>) and prints its values, so it reads without colour."""

from html import escape

WIDTH = 640
BAR = "#2f6db5"
ACCENT = "#c0392b"
MUTED = "#7f8c8d"


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if unit == "%":
        return f"{value * 100:.0f} %"
    if unit == "s":
        return duration_text(value)
    return f"{value:g}"


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    for size, name in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds / size:.1f} {name}"
    return f"{seconds:.1f} s"


def _frame(title: str, desc: str, height: int, body: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {height}" '
            f'width="100%" style="max-width:{WIDTH}px" aria-label="{escape(title)}">'
            f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>"
            f'<g font-family="system-ui, sans-serif" font-size="13">{body}</g></svg>')


def bar_chart(title: str, items: list[tuple[str, float | None]], *, unit: str = "",
              maximum: float | None = None) -> str:
    """Horizontal bars, one per (label, value); None is drawn as n/a."""
    if not items:
        return _frame(title, "no data", 40, '<text x="8" y="24" fill="#555">No data yet</text>')
    label_w, row, top = 200, 26, 8
    values = [v for _, v in items if v is not None]
    top_value = maximum if maximum is not None else max(values, default=0) or 1
    scale = (WIDTH - label_w - 90) / top_value
    parts = []
    for i, (label, value) in enumerate(items):
        y = top + i * row
        parts.append(f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end">{escape(label)}</text>')
        if value is not None:
            width = max(value * scale, 1 if value > 0 else 0)
            parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{width:.1f}" height="{row - 8}" fill="{BAR}"/>')
        parts.append(f'<text x="{label_w + (value or 0) * scale + 6:.1f}" y="{y + 17}">{_fmt(value, unit)}</text>')
    desc = "; ".join(f"{label}: {_fmt(value, unit)}" for label, value in items)
    return _frame(title, desc, top * 2 + row * len(items), "".join(parts))


def pareto_chart(title: str, counts: list[tuple[str, int]]) -> str:
    """Bars by count, largest first, with the cumulative share as a line (the Pareto view)."""
    counts = sorted(counts, key=lambda c: (-c[1], c[0]))
    if not counts:
        return _frame(title, "no exceptions", 40, '<text x="8" y="24" fill="#555">No exceptions</text>')
    height, left, bottom, top = 300, 40, 110, 20
    plot_h = height - bottom - top
    step = (WIDTH - left - 110) / len(counts)  # room on the right for the last slanted label
    total, peak, running = sum(c for _, c in counts), max(c for _, c in counts), 0
    parts, points = [], []
    for i, (code, count) in enumerate(counts):
        x = left + i * step
        h = plot_h * count / peak
        parts.append(f'<rect x="{x + step * 0.15:.1f}" y="{top + plot_h - h:.1f}" width="{step * 0.7:.1f}" '
                     f'height="{h:.1f}" fill="{BAR}"/>')
        parts.append(f'<text x="{x + step / 2:.1f}" y="{top + plot_h - h - 4:.1f}" text-anchor="middle">{count}</text>')
        parts.append(f'<text transform="translate({x + step / 2:.1f},{top + plot_h + 8}) rotate(40)" '
                     f'font-size="11">{escape(code)}</text>')
        running += count
        points.append(f"{x + step / 2:.1f},{top + plot_h * (1 - running / total):.1f}")
    parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
    parts.append(f'<text x="{left + len(counts) * step + 4:.1f}" y="{top + 4}" fill="{ACCENT}" '
                 'font-size="11">100 % cumulative</text>')
    shares, acc = [], 0
    for code, count in counts:
        acc += count
        shares.append(f"{code}: {count} ({acc * 100 // total} % cumulative)")
    return _frame(title, "; ".join(shares), height, "".join(parts))


def paired_bars(title: str, groups: list[tuple[str, float | None, float | None]], names: tuple[str, str]) -> str:
    """Two rates (0..1) per group, side by side, with a legend."""
    if not groups:
        return _frame(title, "no data", 40, '<text x="8" y="24" fill="#555">No data yet</text>')
    label_w, row, top = 200, 44, 30
    scale = WIDTH - label_w - 80
    colours = (ACCENT, BAR)
    parts = [f'<rect x="{label_w + i * 170}" y="6" width="12" height="12" fill="{colours[i]}"/>'
             f'<text x="{label_w + i * 170 + 18}" y="17">{escape(name)}</text>' for i, name in enumerate(names)]
    for i, (label, first, second) in enumerate(groups):
        y = top + i * row
        parts.append(f'<text x="{label_w - 8}" y="{y + 24}" text-anchor="end">{escape(label)}</text>')
        for j, value in enumerate((first, second)):
            by = y + 4 + j * 18
            width = (value or 0) * scale
            parts.append(f'<rect x="{label_w}" y="{by}" width="{width:.1f}" height="15" fill="{colours[j]}"/>')
            parts.append(f'<text x="{label_w + width + 6:.1f}" y="{by + 12}" font-size="11">{_fmt(value, "%")}</text>')
    desc = "; ".join(f"{label}: {names[0]} {_fmt(a, '%')}, {names[1]} {_fmt(b, '%')}" for label, a, b in groups)
    return _frame(title, desc, top + row * len(groups) + 6, "".join(parts))


def range_chart(title: str, items: list[tuple[str, float | None, float | None, int]]) -> str:
    """Per label, a bar to p50 and a marker at p90 (seconds), with the count."""
    if not items:
        return _frame(title, "no data", 40, '<text x="8" y="24" fill="#555">No data yet</text>')
    label_w, row, top = 200, 28, 24
    peak = max((v for _, a, b, _ in items for v in (a, b) if v is not None), default=1) or 1
    scale = (WIDTH - label_w - 130) / peak
    parts = [f'<text x="{label_w}" y="14" font-size="11" fill="{MUTED}">bar: p50, mark: p90</text>']
    for i, (label, p50, p90, count) in enumerate(items):
        y = top + i * row
        parts.append(f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end">{escape(label)} ({count})</text>')
        if p50 is not None:
            parts.append(f'<rect x="{label_w}" y="{y + 5}" width="{max(p50 * scale, 1):.1f}" height="{row - 10}" '
                         f'fill="{BAR}"/>')
        if p90 is not None:
            parts.append(f'<rect x="{label_w + p90 * scale - 1:.1f}" y="{y + 2}" width="3" height="{row - 4}" '
                         f'fill="{ACCENT}"/>')
        end = label_w + (p90 or p50 or 0) * scale + 8
        parts.append(f'<text x="{end:.1f}" y="{y + 17}" font-size="11">{duration_text(p50)} / {duration_text(p90)}'
                     "</text>")
    desc = "; ".join(f"{label}: p50 {duration_text(a)}, p90 {duration_text(b)}, {n} measured"
                     for label, a, b, n in items)
    return _frame(title, desc, top + row * len(items) + 6, "".join(parts))
