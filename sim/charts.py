"""The report's figures, drawn with matplotlib on its object API (no pyplot
state, so figures can be drawn in any order and in any thread).

Every figure reads in black and white: scenarios differ by line style as well
as colour, verdicts carry a word and a symbol beside their colour.  Colours are
the Okabe-Ito palette, which stays distinct for the common colour-vision
deficiencies (Okabe & Ito 2008, "Color Universal Design").

Positions on the time axis are decimal years: month m of year y sits at
y + (m - 0.5) / 12, so December 2020 (the baseline) lies just left of the
"2021" tick and an annual flow sits at mid-year.
"""

import io
import textwrap
from dataclasses import dataclass, field

import numpy as np
from matplotlib import rc_context
from matplotlib.figure import Figure

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)))
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "h")
VERDICT_COLOURS = {"met": "#91cf60", "at risk": "#fee08b", "missed": "#fc8d59"}  # light enough for black text
VERDICT_SYMBOLS = {"met": "✔", "at risk": "▲", "missed": "✖"}
HISTORY_COLOUR = "#555555"
TARGET_COLOUR = "#000000"

# Fixed fonts, ids and metadata: the same run folder gives the same bytes.
STYLE = {
    "font.family": ["DejaVu Sans"],
    "font.size": 9,
    "svg.fonttype": "none",  # text stays text: smaller files, searchable, crisp
    "svg.hashsalt": "zjsim-report",
    "text.parse_math": False,  # labels are plain text: a scenario named "$\\foo{$" is drawn, not parsed as TeX
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
}


def month_position(period: str) -> float:
    """'2021-03' -> 2021.208 (mid-month); '2021' -> 2021.5 (mid-year)."""
    if len(period) == 4:
        return int(period) + 0.5
    return int(period[:4]) + (int(period[5:7]) - 0.5) / 12


def end_of_year(year: int) -> float:
    """The position of a year's December, where end-of-year stocks sit."""
    return year + 11.5 / 12


@dataclass
class Bands:
    """Quantiles over replicates at each time position."""

    x: np.ndarray
    q05: np.ndarray
    q25: np.ndarray
    q50: np.ndarray
    q75: np.ndarray
    q95: np.ndarray
    replicates: int

    @classmethod
    def from_values(cls, x: np.ndarray, values: np.ndarray) -> "Bands":
        """values: replicates x positions."""
        q = np.quantile(values, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
        return cls(np.asarray(x, dtype=float), *q, replicates=values.shape[0])


@dataclass
class FanSpec:
    """What one fan chart shows."""

    title: str
    unit: str
    bands: dict[str, Bands]  # scenario -> bands, in legend order
    history: list[tuple[float, float]] = field(default_factory=list)
    history_label: str = ""
    target: tuple[float, float] | None = None
    target_label: str = ""
    reference: tuple[list[float], list[float], str] | None = None  # a dashed guide line: x, y, label
    observed: list[tuple[float, float]] = field(default_factory=list)  # published points (calibration/observed.csv)


@dataclass
class Whisker:
    scenario: str
    median: float
    low: float
    high: float


@dataclass
class ComparisonPanel:
    title: str
    unit: str
    whiskers: list[Whisker]


def scenario_styles(scenarios: list[str]) -> dict[str, dict]:
    return {name: {"color": PALETTE[i % len(PALETTE)], "linestyle": LINESTYLES[i % len(LINESTYLES)],
                   "marker": MARKERS[i % len(MARKERS)]} for i, name in enumerate(scenarios)}


def fan_chart(spec: FanSpec, styles: dict[str, dict]) -> Figure:
    """Median and 50%/90% bands per scenario, the history and the 2025 target."""
    with rc_context(STYLE):
        figure = Figure(figsize=(7.2, 3.4), layout="constrained")
        axes = figure.add_subplot()
        for scenario, bands in spec.bands.items():
            style = styles[scenario]
            if bands.replicates > 1:
                axes.fill_between(bands.x, bands.q05, bands.q95, color=style["color"], alpha=0.12, linewidth=0)
                axes.fill_between(bands.x, bands.q25, bands.q75, color=style["color"], alpha=0.25, linewidth=0)
            axes.plot(bands.x, bands.q50, color=style["color"], linestyle=style["linestyle"], linewidth=1.6,
                      label=f"{scenario} (median)", marker=style["marker"] if len(bands.x) <= 12 else None, markersize=4)
        if spec.history:
            hx, hy = zip(*spec.history)
            axes.plot(hx, hy, color=HISTORY_COLOUR, linestyle=(0, (1, 1.5)), marker="s", markersize=4,
                      linewidth=1.2, label=spec.history_label)
        if spec.observed:
            ox, oy = zip(*spec.observed)
            axes.plot(ox, oy, linestyle="none", marker="D", markersize=5, color=HISTORY_COLOUR,
                      markerfacecolor="white", markeredgewidth=1.3, label="published (observed.csv)", zorder=4)
        if spec.reference:
            rx, ry, label = spec.reference
            axes.plot(rx, ry, color=HISTORY_COLOUR, linestyle=(0, (4, 2)), linewidth=1.0, label=label)
        if spec.target:
            axes.plot([spec.target[0]], [spec.target[1]], linestyle="none", marker="*", markersize=13,
                      color=TARGET_COLOUR, markerfacecolor="white", markeredgewidth=1.4, label=spec.target_label,
                      zorder=5)
        axes.set_title(spec.title, loc="left", fontsize=10)
        axes.set_ylabel(spec.unit)
        left = min([2020.5] + [x for x, _ in spec.history] + [x for x, _ in spec.observed])
        right = int(np.ceil(max([2025.5] + [float(b.x.max()) for b in spec.bands.values()])))
        axes.set_xlim(left - 0.2, right + 0.2)
        # Year boundaries as grid lines; each year's label in the middle of its span.
        first = int(np.floor(left))
        axes.set_xticks(range(first, right + 1), labels=[])
        axes.set_xticks([year + 0.5 for year in range(first, right)], labels=[str(y) for y in range(first, right)], minor=True)
        axes.tick_params(axis="x", which="minor", length=0)
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
        axes.ticklabel_format(axis="y", useOffset=False, style="plain")
    return figure


def comparison_chart(panels: list[ComparisonPanel], styles: dict[str, dict], columns: int = 2) -> Figure:
    """Paired difference against the baseline, one small panel per indicator:
    a dot at the median and a whisker over the 5-95% interval."""
    rows = -(-len(panels) // columns)
    with rc_context(STYLE):
        height = 0.45 + 0.32 * max(len(p.whiskers) for p in panels) if panels else 1.0
        figure = Figure(figsize=(9.0, height * rows + 0.3), layout="constrained")
        grid = figure.subplots(rows, columns, squeeze=False)
        for axes, panel in zip(grid.flat, panels):
            ys = np.arange(len(panel.whiskers))[::-1]
            for y, whisker in zip(ys, panel.whiskers):
                style = styles[whisker.scenario]
                axes.plot([whisker.low, whisker.high], [y, y], color=style["color"], linewidth=1.6)
                axes.plot([whisker.median], [y], marker=style["marker"], color=style["color"], markersize=5)
            axes.axvline(0.0, color="#000000", linewidth=0.8)
            axes.set_yticks(ys, [w.scenario for w in panel.whiskers], fontsize=7)
            axes.set_ylim(-0.7, len(panel.whiskers) - 0.3)
            axes.set_title(textwrap.shorten(panel.title, 60, placeholder="…") + f" [{panel.unit}]", fontsize=7.5,
                           loc="left")
            axes.tick_params(axis="x", labelsize=7)
            axes.grid(axis="y", visible=False)
        for axes in list(grid.flat)[len(panels):]:
            axes.set_visible(False)
    return figure


@dataclass
class Series:
    label: str
    x: list[float]
    y: list[float]
    style: dict  # colour, line style and marker, as scenario_styles gives


@dataclass
class LinePanel:
    title: str
    x_label: str
    unit: str
    series: list[Series]
    x_ticks: list[tuple[float, str]] = field(default_factory=list)


def line_panels(panels: list[LinePanel], columns: int = 2) -> Figure:
    """Small panels of lines with markers (quantiles of the wage distribution,
    the bite by tier): one line per scenario and year, styled per scenario."""
    rows = -(-len(panels) // columns)
    with rc_context(STYLE):
        figure = Figure(figsize=(9.0, 3.0 * rows + 0.4), layout="constrained")
        grid = figure.subplots(rows, columns, squeeze=False)
        for axes, panel in zip(grid.flat, panels):
            for series in panel.series:
                axes.plot(series.x, series.y, label=series.label, color=series.style["color"],
                          linestyle=series.style["linestyle"], marker=series.style["marker"], markersize=4, linewidth=1.4)
            axes.set_title(panel.title, loc="left", fontsize=9)
            axes.set_xlabel(panel.x_label)
            axes.set_ylabel(panel.unit)
            if panel.x_ticks:
                axes.set_xticks([x for x, _ in panel.x_ticks], [label for _, label in panel.x_ticks])
            axes.ticklabel_format(axis="y", useOffset=False, style="plain")
        for axes in list(grid.flat)[len(panels):]:
            axes.set_visible(False)
        handles, labels = grid.flat[0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4), fontsize=8)
    return figure


def verdict_matrix(indicators: list[str], scenarios: list[str], cells: dict[tuple[str, str], tuple[str, float]]) -> Figure:
    """Indicators x scenarios: each cell coloured by verdict with its symbol, word
    and probability; a missing cell is left white with a dash."""
    with rc_context(STYLE | {"axes.grid": False}):
        width = 3.6 + 1.35 * len(scenarios)
        figure = Figure(figsize=(width, 0.28 * len(indicators) + 0.8), layout="constrained")
        axes = figure.add_subplot()
        for row, indicator in enumerate(indicators):
            for column, scenario in enumerate(scenarios):
                verdict, probability = cells.get((indicator, scenario), ("", float("nan")))
                colour = VERDICT_COLOURS.get(verdict, "#ffffff")
                axes.add_patch(_rectangle(column, row, colour))
                text = f"{VERDICT_SYMBOLS[verdict]} {verdict} {probability:.0%}" if verdict else "–"
                axes.text(column + 0.5, row + 0.5, text, ha="center", va="center", fontsize=7.5)
        axes.set_xlim(0, len(scenarios))
        axes.set_ylim(len(indicators), 0)
        axes.set_xticks(np.arange(len(scenarios)) + 0.5, scenarios, fontsize=8)
        axes.xaxis.tick_top()
        axes.set_yticks(np.arange(len(indicators)) + 0.5, indicators, fontsize=7.5)
        for side in ("left", "bottom", "top", "right"):
            axes.spines[side].set_visible(False)
        axes.tick_params(length=0)
    return figure


def _rectangle(x: float, y: float, colour: str):
    from matplotlib.patches import Rectangle

    return Rectangle((x + 0.03, y + 0.06), 0.94, 0.88, facecolor=colour, edgecolor="#ffffff")


def to_svg(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    with rc_context(STYLE):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def to_png(figure: Figure, dpi: int = 160) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()
