"""Charts as PNG: a KR's trend, and an objective's KRs side by side (matplotlib, Agg).

Sized for Slack's preview (about 360 px wide): drawn at 720 px wide with large type, so
that at half size the labels stay readable. Figures are made without pyplot, so that
rendering in several threads shares no global state.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from okrbot.domain.commands import Metric
from okrbot.domain.formatting import format_value
from okrbot.domain.progress import format_percent
from okrbot.services.charts import ObjectiveTrends, Trend

WIDTH_IN, DPI = 4.8, 150  # 720 px wide
KR_HEIGHT_IN = 3.0
ROW_HEIGHT_IN = 1.9  # one row of the objective's grid
BLUE, GREY, GREEN, FAINT = "#1d4ed8", "#6b7280", "#15803d", "#d1d5db"
MARKERS_UP_TO = 40  # more check-ins than this: a line without dots


@dataclass(frozen=True)
class Chart:
    png: bytes
    alt_text: str  # what a screen reader says instead (Slack's alt_txt)
    title: str


def kr_chart(trend: Trend) -> Chart:
    figure = _figure(WIDTH_IN, KR_HEIGHT_IN)
    axes = figure.add_subplot(1, 1, 1)
    _draw_trend(axes, trend, small=False)
    axes.set_title(_clip(f"{trend.ident} {trend.title}", 44), loc="left", fontsize=12, fontweight="bold")
    axes.legend(loc="best", fontsize=9, frameon=False)
    # Fixed margins: tight_layout measured every label and took ~40% of the time. The left
    # one grows with the longest value on the axis (99.95% needs more room than 45).
    widest = max((len(_tick(trend, value)) for value in axes.get_yticks()), default=3)
    figure.subplots_adjust(left=min(0.3, 0.05 + 0.022 * widest), right=0.94, top=0.88, bottom=0.1)
    return Chart(_png(figure), _kr_alt_text(trend), f"{trend.ident} {trend.title}")


def objective_chart(trends: ObjectiveTrends) -> Chart:
    count = max(1, len(trends.krs))
    columns = 1 if count == 1 else 2
    rows = (count + columns - 1) // columns
    figure = _figure(WIDTH_IN, 0.5 + ROW_HEIGHT_IN * rows)
    for index, trend in enumerate(trends.krs):
        axes = figure.add_subplot(rows, columns, index + 1)
        _draw_trend(axes, trend, small=True)
        axes.set_title(f"{trend.ident} {_clip(trend.title, 12)} {format_percent(trend.progress)}", loc="left", fontsize=10, fontweight="bold")
    figure.suptitle(_clip(f"{trends.ident} {trends.title} · {format_percent(trends.progress)}", 44), x=0.02, ha="left", fontsize=12, fontweight="bold")
    height = figure.get_figheight()
    figure.subplots_adjust(left=0.1, right=0.94, top=1 - 0.7 / height, bottom=0.3 / height, hspace=0.55, wspace=0.35)
    return Chart(_png(figure), _objective_alt_text(trends), f"{trends.ident} {trends.title}")


def _figure(width: float, height: float):
    # Imported on first use: matplotlib adds ~0.3 s and ~25 MB to a process that draws nothing.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def _draw_trend(axes, trend: Trend, *, small: bool) -> None:
    from matplotlib import dates, ticker

    size = 9 if small else 10
    if not trend.threshold and trend.target is not None:
        axes.plot([trend.period_start, trend.period_end], [trend.start, trend.target], linestyle="--", color=GREY, linewidth=1.2, label="expected pace")
    if trend.target is not None:
        label = f"{'keep ' if trend.threshold else 'target '}{trend.shown(trend.target)}"
        axes.axhline(trend.target, color=GREEN, linestyle=":", linewidth=1.6, label=label)
    if trend.points:
        times = [at for at, _ in trend.points]
        values = [value for _, value in trend.points]
        marker = "o" if len(values) <= MARKERS_UP_TO else None
        axes.plot(times, values, color=BLUE, linewidth=2.2, marker=marker, markersize=4 if small else 5, label=trend.line)
        axes.annotate(
            trend.shown(values[-1]), (times[-1], values[-1]), textcoords="offset points", xytext=(4, 6),
            fontsize=size + 1, color=BLUE, fontweight="bold",
        )
    axes.axvline(trend.now, color=FAINT, linewidth=1)
    axes.set_xlim(trend.period_start, trend.period_end)
    axes.xaxis.set_major_locator(dates.AutoDateLocator(minticks=2, maxticks=4 if small else 5))
    axes.xaxis.set_major_formatter(ticker.FuncFormatter(lambda day, _: _day(dates.num2date(day))))
    if trend.in_progress:  # quarters (or halves) of the way
        axes.yaxis.set_major_locator(ticker.MultipleLocator(50 if small else 25))
    else:
        axes.yaxis.set_major_locator(ticker.MaxNLocator(nbins=4 if small else 5))
    axes.yaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: _tick(trend, value)))
    axes.margins(y=0.15)  # room above the line for the last value's label
    axes.tick_params(labelsize=size)
    if trend.unit and not small:
        axes.set_ylabel(trend.unit, fontsize=size)
    axes.grid(axis="y", color=FAINT, linewidth=0.6)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def _tick(trend: Trend, value: float) -> str:
    return format_value(value, None, Metric.NUMERIC) + ("%" if trend.unit == "%" else "")


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _day(at: datetime) -> str:
    return f"{at:%b} {at.day}"


def _kr_alt_text(trend: Trend) -> str:
    """Screen readers get the story the picture tells."""
    parts = [f"Line chart of {trend.ident} {trend.title}."]
    if trend.points:
        (first_at, first), (last_at, last) = trend.points[0], trend.points[-1]
        parts.append(f"{len(trend.points)} points from {trend.shown(first)} on {_day(first_at)} to {trend.shown(last)} on {_day(last_at)}.")
    else:
        parts.append("No check-ins yet.")
    if trend.target is not None:
        verb = "Keep at" if trend.threshold else "Target"
        parts.append(f"{verb} {trend.shown(trend.target)} by {_day(trend.period_end)}; progress {format_percent(trend.progress)}.")
    return _clip(" ".join(parts), 1000)


def _objective_alt_text(trends: ObjectiveTrends) -> str:
    krs = "; ".join(f"{trend.ident} {_clip(trend.title, 60)} at {format_percent(trend.progress)}" for trend in trends.krs) or "no KRs yet"
    more = f" and {trends.more} more KRs" if trends.more else ""
    return _clip(f"Progress of {trends.ident} {trends.title} ({trends.period}, {format_percent(trends.progress)}) by KR: {krs}{more}.", 1000)
