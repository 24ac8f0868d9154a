"""Backtest: the model, started in the past, against what was published since.

`calibration/observed.csv` lists every published Zhejiang figure for 2016-2022
that matches an indicator of the model, each with its period, unit, kind,
source and confidence.  For each point the backtest takes the simulated value
of the same definition in every replicate of a run, and reports the observed
value, the simulated median with its 5-95% interval, the error and whether it
is within tolerance:

| kind   | what                                     | error              | tolerance |
|--------|------------------------------------------|--------------------|-----------|
| stock  | end-of-period count                      | percent            | 3%        |
| flow   | total over a year (or over from..period) | percent            | 10%       |
| level  | a wage level                             | percent            | 3%        |
| rate   | a rate in percent                        | percentage points  | 0.5 pp    |
| growth | a year's growth of a wage level          | percentage points  | 2 pp      |

Growth points are derived from two consecutive annual wage levels of the file.
A point with `bound = lower` is a published floor ("at least ..."): it is met
when the simulated median is at least the floor less the tolerance.  Points
whose period lies outside the run are listed as not simulated.  A run fails the
backtest when a high-confidence point is outside its tolerance.

Figures published for 2023 or later are not in the file: they judge the model.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .calibration import CALIBRATION_DIR
from .errors import InputError
from .indicators import BY_ID
from .timeline import format_month, parse_month

OBSERVED = CALIBRATION_DIR / "observed.csv"
COLUMNS = ("indicator", "period", "from", "value", "bound", "unit", "kind", "source", "confidence", "note")
KINDS = ("stock", "flow", "level", "rate")
CONFIDENCE = ("high", "medium", "low")
# kind -> (error measured as, tolerance)
TOLERANCE = {"stock": ("%", 3.0), "flow": ("%", 10.0), "level": ("%", 3.0), "rate": ("pp", 0.5), "growth": ("pp", 2.0)}
GROWTH_OF = ("average_wage", "average_wage_non_private", "average_wage_private")  # levels whose growth is checked
TABLE_COLUMNS = ["indicator", "period", "kind", "confidence", "observed", "bound", "median", "p05", "p95",
                 "error", "error_unit", "tolerance", "status"]


@dataclass(frozen=True)
class Point:
    indicator: str
    period: str  # YYYY or YYYY-MM
    start: str  # flows: first month of a cumulative window ("" = the period itself)
    value: float
    bound: str  # "" or "lower"
    unit: str
    kind: str  # stock, flow, level, rate or growth
    source: str
    confidence: str
    note: str = ""


def _period(text: str) -> str:
    """A year YYYY or a month YYYY-MM, checked."""
    if len(text) == 4 and text.isdigit():
        return text
    parse_month(text)
    return text


def read_observed(path: str | Path = OBSERVED) -> list[Point]:
    """The published points, checked column by column (an InputError names file, line and column)."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(f"missing columns {', '.join(missing)}; expected {','.join(COLUMNS)}", file=str(path))
            rows = list(enumerate(reader, start=2))
    except FileNotFoundError:
        raise InputError("observed-data file not found", file=str(path)) from None
    except (UnicodeDecodeError, csv.Error, IsADirectoryError) as err:
        raise InputError(f"cannot read the observed-data file ({err.__class__.__name__})", file=str(path)) from None
    points = []
    for line, row in rows:
        def bad(column: str, allowed: str):
            raise InputError(f"value {row.get(column)!r} is not allowed; expected {allowed}", file=f"{path}:{line}", key=column)

        if row["indicator"] not in BY_ID:
            bad("indicator", "an indicator id of the model (sim/indicators.py)")
        try:
            period = _period(row["period"])
        except ValueError:
            bad("period", "YYYY or YYYY-MM")
        start = row["from"] or ""
        if start:
            try:
                if parse_month(start) > _last_month(period):
                    raise ValueError
            except ValueError:
                bad("from", "empty or a month YYYY-MM not after the period")
        try:
            value = float(row["value"])
        except (TypeError, ValueError):
            bad("value", "a number")
        if value != value:
            bad("value", "a number")
        if row["bound"] not in ("", "lower"):
            bad("bound", "empty (a published value) or 'lower' (a published floor)")
        if row["kind"] not in KINDS:
            bad("kind", " or ".join(KINDS))
        if row["confidence"] not in CONFIDENCE:
            bad("confidence", " or ".join(CONFIDENCE))
        if not row["source"]:
            bad("source", "the document the figure comes from")
        points.append(Point(row["indicator"], period, start, value, row["bound"], row["unit"], row["kind"],
                            row["source"], row["confidence"], row["note"] or ""))
    return points + growth_points(points)


def growth_points(points: list[Point]) -> list[Point]:
    """Annual growth (percent) of each wage level published for two consecutive years."""
    levels = {(p.indicator, p.period): p for p in points if p.indicator in GROWTH_OF and len(p.period) == 4 and not p.bound}
    derived = []
    for (indicator, period), point in sorted(levels.items()):
        before = levels.get((indicator, str(int(period) - 1)))
        if before is None:
            continue
        confidence = max(point.confidence, before.confidence, key=CONFIDENCE.index)
        derived.append(Point(indicator, period, "", 100.0 * (point.value / before.value - 1.0), "", "% a year", "growth",
                             f"derived from the {before.period} and {period} levels", confidence,
                             f"{point.value:g} / {before.value:g} - 1"))
    return derived


def _last_month(period: str) -> int:
    return parse_month(f"{period}-12") if len(period) == 4 else parse_month(period)


def simulated(frame: pd.DataFrame, point: Point) -> np.ndarray | None:
    """The point's simulated value in each replicate of one scenario's rows, or
    None when the run does not cover it."""
    rows = frame[frame["indicator"] == point.indicator]
    by_period = rows.pivot_table(index="period", columns="replicate", values="value", aggfunc="first")
    if point.kind == "growth":
        before = str(int(point.period) - 1)
        if point.period not in by_period.index or before not in by_period.index:
            return None
        return 100.0 * (by_period.loc[point.period].to_numpy() / by_period.loc[before].to_numpy() - 1.0)
    if point.kind == "flow" and point.start:
        months = [format_month(m) for m in range(parse_month(point.start), _last_month(point.period) + 1)]
        if not all(m in by_period.index for m in months):
            return None
        return by_period.loc[months].sum(axis=0).to_numpy()
    if point.period not in by_period.index:
        return None
    return by_period.loc[point.period].to_numpy()


def backtest_table(frame: pd.DataFrame, points: list[Point], scenario: str) -> pd.DataFrame:
    """One row per observed point: observed, simulated median and 5-95%, error, tolerance, status."""
    frame = frame[frame["scenario"] == scenario]
    records = []
    for point in points:
        unit, tolerance = TOLERANCE[point.kind]
        values = simulated(frame, point)
        record = {"indicator": point.indicator, "period": f"{point.start}..{point.period}" if point.start else point.period,
                  "kind": point.kind, "confidence": point.confidence, "observed": point.value,
                  "bound": "at least" if point.bound == "lower" else "", "median": np.nan, "p05": np.nan, "p95": np.nan,
                  "error": np.nan, "error_unit": unit, "tolerance": tolerance, "status": "not simulated",
                  "source": point.source}
        if values is not None and len(values):
            median = float(np.median(values))
            error = median - point.value if unit == "pp" else 100.0 * (median / point.value - 1.0)
            within = error >= -tolerance if point.bound == "lower" else abs(error) <= tolerance
            record.update(median=median, p05=float(np.quantile(values, 0.05)), p95=float(np.quantile(values, 0.95)),
                          error=error, status="within" if within else "outside")
        records.append(record)
    return pd.DataFrame.from_records(records, columns=TABLE_COLUMNS + ["source"])


def failed(table: pd.DataFrame) -> pd.DataFrame:
    """High-confidence points outside their tolerance."""
    return table[(table["confidence"] == "high") & (table["status"] == "outside")]


def pick_scenario(frame: pd.DataFrame, wanted: str | None, folder: str) -> str:
    names = list(dict.fromkeys(frame["scenario"]))
    if wanted is not None:
        if wanted not in names:
            raise InputError(f"scenario '{wanted}' is not in the run; it has {', '.join(names)}", file=folder, key="--scenario")
        return wanted
    if "realised" in names:
        return "realised"
    if len(names) == 1:
        return names[0]
    raise InputError(f"the run has several scenarios ({', '.join(names)}); choose one with --scenario", file=folder)
