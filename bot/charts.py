"""The digest's chart: spend per day over four weeks, stacked by tool, as a PNG.

Drawn with matplotlib's object API on an Agg canvas (no pyplot, no global figure state), so charts
can be drawn from any thread of the web process or the clock without a display.
"""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.domain.digest import DailySeries

# Colour-blind-safe (Okabe-Ito); tools beyond these reuse them in order.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def tool_colours(tools: Sequence[str], shown: Sequence[str]) -> dict[str, str]:
    """A colour per tool that stays the same week after week: by the tool's place among ``tools``.

    ``tools`` are every priced tool, sorted; a tool no longer priced (``shown`` but not in ``tools``)
    takes the colours after them.
    """
    order = [*tools, *sorted(set(shown) - set(tools))]
    return {tool: PALETTE[order.index(tool) % len(PALETTE)] for tool in shown}


def spend_chart_png(series: DailySeries, *, title: str, tools: Sequence[str] = ()) -> bytes:
    """A stacked bar chart of ``series``, wide enough to read on a phone held sideways."""
    colours = tool_colours(tools, list(series.by_tool))
    figure = Figure(figsize=(8, 4), dpi=120, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(series.days)))
    bottom = [0] * len(positions)
    for tool, signed in series.by_tool.items():
        values = [max(0, v) for v in signed]  # a day of net refunds shows as nothing spent
        axes.bar(positions, values, bottom=bottom, width=0.8, label=tool, color=colours[tool])
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    mondays = [n for n, day in enumerate(series.days) if day.weekday() == 0] or positions[:1]
    axes.set_xticks(mondays, [f"{series.days[n]:%a} {series.days[n].day} {series.days[n]:%b}" for n in mondays])
    axes.set_xlim(-0.6, len(positions) - 0.4)
    axes.set_ylabel("credits per day")
    axes.set_title(title, loc="left", fontsize=11)
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    if series.by_tool:
        figure.legend(loc="outside lower center", frameon=False, ncols=min(6, len(series.by_tool)), fontsize=9)
    else:
        axes.text(0.5, 0.5, "no spend", transform=axes.transAxes, ha="center", va="center", color="grey")
    buffer = BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
