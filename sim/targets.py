"""The 2025 target verdict, the funds' sustainability and scenario comparisons,
from a run's indicators.

For every scenario and plan indicator (`calibration/plan_indicators_2025.csv`):
the simulated value that the target is judged against, per replicate —
the 2025 value, or for cumulative targets (`kind = flow_cumulative_5y`) the sum
of 2021-2025 — its median and 5-95% interval over replicates, the probability
of meeting the target (the share of replicates that meet it) and a verdict.

Rules (`comparison` column of the plan table):
    >=               value >= target
    about_or_below   value <= target x (1 + ABOUT)   ("about 5.5% or less")
    about_or_above   value >= target x (1 - ABOUT)   ("about 40%")
Verdicts: met when the probability is at least MET (0.9), at risk when at
least AT_RISK (0.5), missed below that.

Beside the plan's targets (`rule_set` "plan") the table judges the funds'
sustainability (`rule_set` "sustainability") by the stated rules of
`calibration/sustainability_rules.csv`: an indicator's annual value in a year
(2025 or 2035) against a threshold, with the same comparisons and verdicts.
The plan names the goal (社保基金安全可持续运行) but no number, so these are
rules of this model, each with its rationale, judged only for runs that reach
their year.
"""

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd

from .calibration import CALIBRATION_DIR
from .errors import InputError

ABOUT = 0.02
MET, AT_RISK = 0.9, 0.5
FIRST_YEAR, TARGET_YEAR = 2021, 2025
COLUMNS = ["scenario", "rule_set", "indicator", "name_zh", "name_en", "unit", "period", "base_2020", "target",
           "comparison", "median", "p05", "p95", "probability", "verdict", "replicates"]
SUSTAINABILITY_RULES = CALIBRATION_DIR / "sustainability_rules.csv"


# Names of the indicators the plan table does not list.
EXTRA_NAMES = {
    "resident_population": ("常住人口", "Resident population"),
    "employed": ("就业人员", "Employed persons"),
    "labour_force": ("劳动力", "Labour force"),
    "average_wage": ("城镇单位就业人员平均工资", "Social average wage"),
    "average_wage_non_private": ("非私营单位就业人员平均工资", "Average wage, non-private units"),
    "average_wage_private": ("私营单位就业人员平均工资", "Average wage, private units"),
    "pension_fund_balance": ("职工基本养老保险基金累计结余", "Employee pension fund balance"),
    "pension_fund_months": ("职工基本养老保险基金可支付月数", "Employee pension fund: months of expenditure covered"),
    "pension_dependency_ratio": ("职工基本养老保险抚养比", "Contributors per pensioner"),
    "unemployment_fund_balance": ("失业保险基金累计结余", "Unemployment insurance fund balance"),
    "unemployment_fund_months": ("失业保险基金可支付月数", "Unemployment fund: months of expenditure covered"),
}


def indicator_names() -> dict[str, tuple[str, str, str]]:
    """id -> (Chinese name, English name, unit) for every indicator a run writes."""
    from .distribution import NAMES as DISTRIBUTION_NAMES
    from .indicators import BY_ID

    names = {row["id"]: (row["name_zh"], row["name_en"], row["unit"]) for row in plan_indicators()}
    for key, (zh, en) in (EXTRA_NAMES | DISTRIBUTION_NAMES).items():
        names[key] = (zh, en, BY_ID[key].unit)
    return names


def plan_indicators() -> list[dict]:
    with (CALIBRATION_DIR / "plan_indicators_2025.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


RULE_COMPARISONS = (">=", "about_or_below", "about_or_above")


def sustainability_rules(path: Path | None = None) -> list[dict]:
    """The stated rules the funds are judged by (see the module's docstring),
    checked: an indicator the runs write, a year from 2021 to 2035, a
    number for the threshold and one of the comparisons."""
    from .indicators import BY_ID

    path = path or SUSTAINABILITY_RULES
    try:
        with path.open(encoding="utf-8") as handle:
            rules = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise InputError(f"cannot read the rules ({err.__class__.__name__})", file=str(path)) from None
    for number, rule in enumerate(rules, start=2):  # line 1 is the header
        where = f"line {number} (rule {rule.get('id')!r})"
        if rule.get("indicator") not in BY_ID:
            raise InputError(f"{where}: indicator {rule.get('indicator')!r} is not one a run writes", file=str(path),
                             key="indicator")
        for key, kind in (("year", int), ("threshold", float)):
            try:
                rule[key] = kind(rule[key])
            except (TypeError, ValueError):
                raise InputError(f"{where}: {key} {rule.get(key)!r} is not a number", file=str(path), key=key) from None
        if not FIRST_YEAR <= rule["year"] <= 2035:
            raise InputError(f"{where}: year {rule['year']} is not from {FIRST_YEAR} to 2035", file=str(path), key="year")
        if not np.isfinite(rule["threshold"]):
            raise InputError(f"{where}: threshold {rule['threshold']} is not a finite number", file=str(path),
                             key="threshold")
        if rule.get("comparison") not in RULE_COMPARISONS:
            raise InputError(f"{where}: comparison {rule.get('comparison')!r} is not allowed; expected one of "
                             f"{', '.join(RULE_COMPARISONS)}", file=str(path), key="comparison")
    return rules


def judged_values(frame: pd.DataFrame, row: dict) -> pd.DataFrame:
    """Per (scenario, replicate): the value the target is judged against."""
    annual = frame[(frame["indicator"] == row["id"]) & (frame["period"].str.len() == 4)]
    years = annual["period"].astype(int)
    if row["kind"] == "flow_cumulative_5y":
        chosen = annual[(years >= FIRST_YEAR) & (years <= TARGET_YEAR)]
        return chosen.groupby(["scenario", "replicate"], sort=False)["value"].sum().reset_index()
    return annual[years == TARGET_YEAR][["scenario", "replicate", "value"]]


def meets(values: np.ndarray, target: float, comparison: str) -> np.ndarray:
    if comparison == ">=":
        return values >= target
    if comparison == "about_or_below":
        return values <= target * (1 + ABOUT)
    if comparison == "about_or_above":
        return values >= target * (1 - ABOUT)
    raise InputError(f"unknown comparison {comparison!r}; allowed: >=, about_or_below, about_or_above",
                     file=str(CALIBRATION_DIR / "plan_indicators_2025.csv"), key="comparison")


def verdict(probability: float) -> str:
    return "met" if probability >= MET else "at risk" if probability >= AT_RISK else "missed"


def target_table(frame: pd.DataFrame, draws: list[int] | None = None) -> pd.DataFrame:
    """The verdict table of a run's indicators (all scenarios): the plan's
    targets, then the sustainability rules for the years the run reaches.

    With `draws` (the posterior draw of each replicate, from the manifest of a
    run under `--uncertainty posterior`) the interval and the probability
    include the parameters' uncertainty, and `from_parameters` says which share
    of the spread comes from them rather than from chance (`sim.posterior.variance_split`)."""
    from .posterior import variance_split

    names = indicator_names()
    rules = [{**plan, "rule_set": "plan", "indicator": plan["id"], "target": float(plan["target_2025"]),
              "period": f"{FIRST_YEAR}-{TARGET_YEAR}" if plan["kind"] == "flow_cumulative_5y" else str(TARGET_YEAR),
              "values": judged_values(frame, plan)} for plan in plan_indicators()]
    for rule in sustainability_rules():
        if reaches(frame, rule["year"]):
            annual = frame[(frame["indicator"] == rule["indicator"]) & (frame["period"] == str(rule["year"]))]
            zh, en, unit = names[rule["indicator"]]
            rules.append({**rule, "rule_set": "sustainability", "name_zh": zh, "name_en": en, "unit": unit,
                          "base_2020": "", "target": rule["threshold"], "period": str(rule["year"]),
                          "values": annual[["scenario", "replicate", "value"]]})
    rows = []
    scenarios = list(dict.fromkeys(frame["scenario"]))
    for rule in rules:
        values = rule["values"]
        for scenario in scenarios:
            chosen = values[values["scenario"] == scenario]
            v = chosen["value"].to_numpy(dtype=float)
            if len(v) == 0:
                continue
            probability = float(meets(v, rule["target"], rule["comparison"]).mean())
            rows.append({
                "scenario": scenario, "rule_set": rule["rule_set"], "indicator": rule["indicator"],
                "name_zh": rule["name_zh"], "name_en": rule["name_en"], "unit": rule["unit"], "period": rule["period"],
                "base_2020": float(rule["base_2020"]) if rule["base_2020"] else np.nan, "target": rule["target"],
                "comparison": rule["comparison"],
                "median": float(np.median(v)), "p05": float(np.percentile(v, 5)), "p95": float(np.percentile(v, 95)),
                "probability": probability, "verdict": verdict(probability), "replicates": len(v),
            })
            if draws is not None and len(draws) > chosen["replicate"].max():
                groups = np.asarray(draws)[chosen["replicate"].to_numpy()]
                rows[-1]["from_parameters"] = variance_split(v, groups)
    return pd.DataFrame(rows, columns=COLUMNS + (["from_parameters"] if draws is not None else []))


def unjudged_rules(frame: pd.DataFrame) -> list[dict]:
    """The sustainability rules whose year the run does not reach."""
    return [rule for rule in sustainability_rules() if not reaches(frame, rule["year"])]


def compare_table(frame: pd.DataFrame, baseline: str, years: list[int]) -> pd.DataFrame:
    """Each scenario against the baseline, paired by replicate: per indicator and
    year (and the 2021-2025 total of cumulative flows), the scenario's median and
    the median and 5-95% interval of the paired difference."""
    scenarios = list(dict.fromkeys(frame["scenario"]))
    repeated = frame.duplicated(["scenario", "replicate", "period", "indicator"])
    if repeated.any():
        name = frame.loc[repeated, "scenario"].iloc[0]
        raise InputError(f"scenario '{name}' appears in more than one of the runs; compare runs with distinct scenarios")
    if baseline not in scenarios:
        raise InputError(f"baseline scenario '{baseline}' is not in the run(s); scenarios are: {', '.join(scenarios)}",
                         key="--baseline")
    if len(scenarios) < 2:
        raise InputError(f"the run has one scenario ({baseline}); compare needs the baseline and at least one other")
    missing = [y for y in years if not reaches(frame, y)]
    if missing:
        last = frame.loc[frame["period"].str.len() == 4, "period"].max()
        raise InputError(f"year {missing[0]} is not in the run (its last full year is {last})", key="--year")
    annual = frame[frame["period"].str.len() == 4]
    cumulative = {row["id"] for row in plan_indicators() if row["kind"] == "flow_cumulative_5y"}
    pieces = [annual[annual["period"].isin([str(y) for y in years])]]
    flows = annual[annual["indicator"].isin(cumulative) & annual["period"].astype(int).between(FIRST_YEAR, TARGET_YEAR)]
    totals = flows.groupby(["scenario", "replicate", "indicator"], as_index=False)["value"].sum()
    totals["period"] = f"{FIRST_YEAR}-{TARGET_YEAR}"
    pieces.append(totals)
    values = pd.concat(pieces, ignore_index=True)
    base = values[values["scenario"] == baseline].rename(columns={"value": "baseline"}).drop(columns="scenario")
    paired = values[values["scenario"] != baseline].merge(base, on=["replicate", "period", "indicator"], how="inner")
    paired["difference"] = paired["value"] - paired["baseline"]
    grouped = paired.groupby(["scenario", "indicator", "period"], sort=False)
    table = grouped.agg(
        median=("value", "median"),
        baseline_median=("baseline", "median"),
        difference=("difference", "median"),
        difference_p05=("difference", lambda d: np.percentile(d, 5)),
        difference_p95=("difference", lambda d: np.percentile(d, 95)),
        replicates=("difference", "size"),
    ).reset_index()
    names = indicator_names()
    for position, column in enumerate(("name_zh", "name_en", "unit")):
        table.insert(2 + position, column, [names.get(key, ("", "", ""))[position] for key in table["indicator"]])
    table.insert(table.columns.get_loc("difference") + 1, "difference_unit",
                 ["pp" if unit == "%" else unit for unit in table["unit"]])  # a difference of rates is in points
    order = {name: i for i, name in enumerate(scenarios)}
    plan_order = {key: i for i, key in enumerate([row["id"] for row in plan_indicators()] + list(EXTRA_NAMES))}
    keys = {"scenario": order, "indicator": plan_order}
    return table.sort_values(["scenario", "indicator", "period"],
                             key=lambda c: c.map(keys[c.name]).fillna(len(plan_order)) if c.name in keys else c,
                             kind="stable").reset_index(drop=True)


FEW_REPLICATES = 20  # below this, the 5-95% interval and the probability rest on too few runs


def uncertainty_note(table: pd.DataFrame, draws: list[int] | None) -> str:
    """One paragraph under a verdict table: what its spread includes, and a caution for few replicates."""
    replicates = int(table["replicates"].min()) if len(table) else 0
    if draws is None:
        note = ("Parameters fixed at calibration/params.toml: the intervals and probabilities show chance only, "
                "not what we do not know about the parameters (run with --uncertainty posterior).")
    else:
        share = table["from_parameters"].median()
        note = (f"Parameters drawn from the posterior ({len(set(draws))} draws, two replicates each): the intervals "
                f"and probabilities include parameter uncertainty; from_parameters is the share of each spread that "
                f"comes from the parameters (median {share:.0%}), the rest is chance.")
    if replicates < FEW_REPLICATES:
        note += (f" Caution: {replicates} replicate(s); with fewer than {FEW_REPLICATES} the 5-95% interval and the "
                 "probability are rough (use --replicates 40 for decisions).")
    return note


def load_draws(folder: str | Path) -> list[int] | None:
    """The posterior draw of each replicate, from a run folder's manifest (None
    for a run with fixed parameters or without a readable record)."""
    path = Path(folder) / "manifest.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8")).get("uncertainty") or {}
    except (OSError, ValueError, AttributeError):
        return None
    draws = record.get("draws") if isinstance(record, dict) and record.get("mode") == "posterior" else None
    if not isinstance(draws, list) or not all(isinstance(d, int) and not isinstance(d, bool) for d in draws):
        return None
    return draws


def uncertainty_mode(folder: str | Path) -> str:
    """'posterior' or 'fixed' (runs made before the posterior existed are fixed)."""
    return "posterior" if load_draws(folder) is not None else "fixed"


PERIOD = r"^[0-9]{4}(-(0[1-9]|1[0-2]))?$"  # a year or a month


def load_run(folder: str | Path) -> pd.DataFrame:
    """A run folder's indicators, checked against the schema at the door: the
    columns and their types, periods YYYY or YYYY-MM, replicates >= 0."""
    import pyarrow as pa

    from .parquet import read_parquet

    folder = Path(folder)
    path = folder / "indicators.parquet"
    if not path.is_file():
        raise InputError("not a run folder: indicators.parquet is missing", file=str(folder))
    try:
        table = read_parquet(path)
    except Exception as err:  # pyarrow raises several kinds for a damaged file
        raise InputError(f"cannot read indicators.parquet ({err.__class__.__name__})", file=str(path)) from None
    expected = {"scenario": pa.types.is_string, "replicate": pa.types.is_integer, "period": pa.types.is_string,
                "indicator": pa.types.is_string, "value": pa.types.is_floating}
    for name, is_type in expected.items():
        if name not in table.column_names or not is_type(table.schema.field(name).type):
            raise InputError(f"not a run's indicators: column {name!r} is missing or of the wrong type; expected "
                             "scenario, replicate, period, indicator, value", file=str(path))
    frame = table.select(list(expected)).to_pandas()
    if frame[["scenario", "period", "indicator"]].isna().any().any() or (frame["replicate"] < 0).any():
        raise InputError("not a run's indicators: empty keys or negative replicates", file=str(path))
    bad = ~frame["period"].str.match(PERIOD)
    if bad.any():
        raise InputError(f"period {frame.loc[bad, 'period'].iloc[0]!r} is not YYYY or YYYY-MM", file=str(path))
    return frame


def reaches(frame: pd.DataFrame, year: int) -> bool:
    """Whether every scenario of a run has the annual values of `year` (its December was simulated)."""
    annual = frame[frame["period"] == f"{year:04d}"]
    return bool(len(annual)) and set(annual["scenario"]) == set(frame["scenario"])


# -- formatting --------------------------------------------------------------
RULE_WORDS = {">=": "≥ {}", "about_or_below": "≤ about {}", "about_or_above": "≥ about {}"}
UNITS_ZH = {"10k persons": "万人", "10k person-times": "万人次", "10k cards": "万张", "persons": "人",
            "yuan per year": "元/年", "%": "%", "months": "个月"}
NARROW = 100  # columns of a terminal table unless --wide


def rule_text(comparison: str, target: float) -> str:
    """A plan rule as words ("≥ 500.0", "about 5.50 or less"), not its code word."""
    return RULE_WORDS.get(comparison, comparison + " {}").format(format_number(float(target)))


def unit_text(unit: str) -> str:
    """A unit with its Chinese form beside it where the plan uses one (10k persons: 万人)."""
    zh = UNITS_ZH.get(unit)
    return f"{zh} ({unit})" if zh and zh != unit else unit


def _clip(text: str, width: int = 24) -> str:
    """Text cut to `width` terminal columns (wide characters count two), with an ellipsis."""
    if _width(text) <= width:
        return text
    while _width(text) > width - 1:
        text = text[:-1]
    return text + "…"


def share_text(value) -> str:
    """A share (of a spread from the parameters) as tables and the report show it."""
    value = float(value)
    return "-" if value != value else f"{value:.0%}"


def _interval(lo: float, hi: float, suffix: str = "") -> str:
    return f"{format_number(lo)} – {format_number(hi)}{suffix}"


def narrow_targets(table: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Per scenario, the verdict table in under 100 columns: the plan's Chinese
    name, the rule in words, the unit, median, 5-95%, probability, verdict;
    then the funds' sustainability rules, year by year, in a block of their own."""
    blocks = []
    for scenario, rows in table.groupby("scenario", sort=False):
        for rule_set, chosen in rows.groupby("rule_set", sort=False):
            shown = pd.DataFrame({
                "indicator": [_clip(n) for n in chosen["name_zh"]],
                "target": [rule_text(c, t) for c, t in zip(chosen["comparison"], chosen["target"])],
                "unit": [UNITS_ZH.get(u, u) for u in chosen["unit"]], "median": chosen["median"],
                "5-95%": [_interval(a, b) for a, b in zip(chosen["p05"], chosen["p95"])],
                "P(met)": [f"{p:.0%}" for p in chosen["probability"]], "verdict": chosen["verdict"]})
            if rule_set == "sustainability":
                shown.insert(1, "year", chosen["period"].to_numpy())
            if "from_parameters" in chosen:
                shown["params"] = [share_text(v) for v in chosen["from_parameters"]]
            title = scenario if rule_set == "plan" else (
                f"{scenario}, funds' sustainability (rules of this model: calibration/sustainability_rules.csv)")
            blocks.append((title, shown.reset_index(drop=True)))
    return blocks


def narrow_compare(table: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Per scenario, the paired differences in under 100 columns; differences of
    rates in percentage points (pp)."""
    blocks = []
    for scenario, rows in table.groupby("scenario", sort=False):
        points = ["pp" if u == "%" else "" for u in rows["unit"]]
        shown = pd.DataFrame({
            "indicator": [_clip(z or i) for z, i in zip(rows["name_zh"], rows["indicator"])], "period": rows["period"],
            "unit": [UNITS_ZH.get(u, u) for u in rows["unit"]], "scenario": rows["median"], "baseline": rows["baseline_median"],
            "difference": [f"{d:+,.2f} pp" if pp else f"{d:+,.1f}" for d, pp in zip(rows["difference"], points)],
            "5-95%": [_interval(a, b, " pp" if pp else "") for a, b, pp in zip(rows["difference_p05"], rows["difference_p95"], points)]})
        blocks.append((scenario, shown.reset_index(drop=True)))
    return blocks


NO_INCOME = dict.fromkeys(("median", "difference", "difference_p05", "difference_p95"), np.nan)


def group_effects(table: pd.DataFrame) -> pd.DataFrame:
    """Who gains, from a comparison table (`compare_table`): per scenario, year
    and group of the employed (sim.distribution.GROUPS), the paired difference
    in employment and in mean work income against the baseline; each
    partition's groups add up to the total row."""
    from .distribution import DIMENSION_OF, GROUP_IDS, LABELS

    rows = []
    keyed = table.set_index(["scenario", "period", "indicator"])
    for (scenario, period), _ in table.groupby(["scenario", "period"], sort=False):
        recorded = [g for g in GROUP_IDS if (scenario, period, f"employed_{g}") in keyed.index]
        if not recorded or (scenario, period, "employed") not in keyed.index:
            continue  # a run from before the groups were recorded, or a 2021-2025 total
        for group in ("all", *recorded):
            jobs = keyed.loc[(scenario, period, "employed" if group == "all" else f"employed_{group}")]
            # No mean work income of all employed is recorded: the total row has none.
            income = keyed.loc[(scenario, period, f"income_{group}")] if group != "all" else NO_INCOME
            rows.append({
                "scenario": scenario, "period": period, "dimension": DIMENSION_OF.get(group, "total"),
                "group": group, "name_en": "all employed" if group == "all" else LABELS[group],
                "employed": jobs["median"], "employed_difference": jobs["difference"],
                "employed_difference_p05": jobs["difference_p05"], "employed_difference_p95": jobs["difference_p95"],
                "income": income["median"], "income_difference": income["difference"],
                "income_difference_p05": income["difference_p05"], "income_difference_p95": income["difference_p95"],
                "replicates": jobs["replicates"]})
    return pd.DataFrame(rows)


def narrow_groups(table: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Per scenario and year, the group effects in under 100 columns."""
    blocks = []
    for (scenario, period), rows in table.groupby(["scenario", "period"], sort=False):
        shown = pd.DataFrame({
            "group": [_clip(n, 30) for n in rows["name_en"]],
            "employed": rows["employed"],
            "difference": [f"{d:+,.1f}" for d in rows["employed_difference"]],
            "5-95%": [_interval(a, b) for a, b in zip(rows["employed_difference_p05"], rows["employed_difference_p95"])],
            "income diff.": ["-" if d != d else f"{d:+,.0f}" for d in rows["income_difference"]],
            "income 5-95%": ["-" if a != a else _interval(a, b)
                             for a, b in zip(rows["income_difference_p05"], rows["income_difference_p95"])]})
        blocks.append((f"{scenario} in {period} (employed: 万人; work income: yuan a month)", shown.reset_index(drop=True)))
    return blocks


def render_blocks(blocks: list[tuple[str, pd.DataFrame]], title: str) -> str:
    return "\n\n".join(f"{title}{name}\n" + render(block, "table") for name, block in blocks)
def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_number(value) -> str:
    """How every table of the command line and the report prints a number."""
    if isinstance(value, float):
        if value != value:
            return "-"
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:,.2f}"
    return str(value)


def render(table: pd.DataFrame, fmt: str, columns: list[str] | None = None) -> str:
    """table (aligned, wide characters counted double), csv, markdown or json."""
    columns = columns or list(table.columns)
    if fmt == "csv":
        return table.to_csv(index=False)
    if fmt == "json":
        return json.dumps(json.loads(table.to_json(orient="records", force_ascii=False)), indent=2, ensure_ascii=False)
    cells = [[format_number(v) for v in row] for row in table[columns].itertuples(index=False)]
    if fmt == "markdown":
        lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells])
    widths = [max([_width(c)] + [_width(row[i]) for row in cells]) for i, c in enumerate(columns)]
    numeric = [table[c].dtype.kind in "fi" for c in columns]

    def line(row):
        parts = []
        for text, width, is_number in zip(row, widths, numeric):
            pad = " " * (width - _width(text))
            parts.append(pad + text if is_number else text + pad)
        return "  ".join(parts).rstrip()

    return "\n".join([line(columns), line(["-" * w for w in widths])] + [line(row) for row in cells])
