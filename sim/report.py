"""The planners' report: one self-contained HTML page per run.

It answers three questions from a run folder: are we on track for the 2025
targets (the dashboard, from `targets.parquet`), how sure are we (fan charts of
the median and 50%/90% bands over replicates, with the plan's history and the
target), and what does each measure add (the paired difference of each
scenario against the baseline, and the sensitivity table of a sweep kept in
the folder).

The page embeds its figures as SVG data URIs and allows no external load
(a Content-Security-Policy of `default-src 'none'`), so it opens from disk
without a network.  It is built from `sim/templates/report.html.j2`; the same
figures can be saved as PNG files for slides.  The same run folder gives the
same bytes.
"""

import base64
import contextlib
import csv
import json
import os
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import charts
from .backtest import backtest_table, failed, read_observed
from .calibration import CALIBRATION_DIR
from .errors import InputError, writable_folder
from .indicators import BY_ID
from .parquet import read_parquet
from .reproduce import read_manifest
from .runner import sha256_file
from .targets import (FEW_REPLICATES, FIRST_YEAR, MET, AT_RISK, TARGET_YEAR, compare_table, format_number, indicator_names,
                      load_draws, load_run, plan_indicators, share_text, target_table)

# Indicators the report shows beside the plan's, for context (no target).
CONTEXT = ("resident_population", "labour_force", "employed", "average_wage")
# The funds section (sim/processes/funds.py): paths to the end of the run and paired differences in its last year.
FUNDS = ("pension_fund_balance", "pension_fund_months", "pension_dependency_ratio", "unemployment_fund_balance",
         "unemployment_fund_months")
# The columns of targets.parquet the dashboard reads (runs of earlier versions have no rule_set or period).
DASHBOARD_COLUMNS = ["scenario", "indicator", "base_2020", "median", "p05", "p95", "probability", "verdict", "replicates"]
# Plan column 1 history rows whose id differs from the simulated indicator's.
HISTORY_IDS = {"social_security_card_holders": "social_security_cards", "new_urban_jobs": "new_urban_jobs_5y"}
HISTORY_LABELS = {"social_security_card_holders": "cards issued, plan column 1"}
COMPARISON_WORDS = {">=": "≥ {}", "about_or_below": "about {} or less", "about_or_above": "about {} or more"}
TEMPLATE = "report.html.j2"


@dataclass
class RunFolder:
    """What the report reads from a run folder."""

    path: Path
    manifest: dict
    frame: pd.DataFrame
    targets: pd.DataFrame | None
    notes: list[str] = field(default_factory=list)
    sweeps: list[dict] = field(default_factory=list)

    @property
    def reaches_target_year(self) -> bool:
        return bool((self.frame["period"] == str(TARGET_YEAR)).any())


@dataclass
class Report:
    context: dict  # what the template shows
    figures: dict  # file stem -> matplotlib Figure, in page order
    notes: list[str]


# -- reading -------------------------------------------------------------------
def read_run(run_dir: str | Path, sweep_dirs: tuple[str, ...] = ()) -> RunFolder:
    path = Path(run_dir)
    if not path.is_dir():
        raise InputError("no such run folder", file=str(path))
    frame = load_run(path)
    if frame.empty:
        raise InputError("indicators.parquet has no rows", file=str(path / "indicators.parquet"))
    _, manifest = read_manifest(path)
    run = RunFolder(path, manifest, frame, targets=None)
    checksums = manifest.get("outputs", {})
    targets_path = path / "targets.parquet"
    if targets_path.exists():
        if checksums.get("targets.parquet") not in (None, sha256_file(targets_path)):
            run.notes.append("targets.parquet does not match the checksum in manifest.json: it was changed after "
                             "the run. The dashboard shows the file as it is now; `zjsim reproduce` tells what changed.")
        run.targets = _read_table(targets_path, DASHBOARD_COLUMNS)
    elif run.reaches_target_year:
        run.targets = target_table(frame, load_draws(path))
        run.notes.append("targets.parquet is missing from the run folder: the verdicts were recomputed from "
                         "indicators.parquet with the same rules as `zjsim targets`.")
    if checksums.get("indicators.parquet") not in (None, sha256_file(path / "indicators.parquet")):
        run.notes.append("indicators.parquet does not match the checksum in manifest.json: it was changed after the run.")
    found = [path] if (path / "sensitivity.parquet").exists() else []
    found += sorted(p.parent for p in path.glob("*/sensitivity.parquet"))
    for folder in [*found, *map(Path, sweep_dirs)]:
        run.sweeps.append(read_sweep(folder))
    return run


def read_sweep(folder: Path) -> dict:
    indices_path = folder / "sensitivity.parquet"
    if not indices_path.exists():
        raise InputError("not a Sobol sweep folder: sensitivity.parquet is missing (Latin-hypercube sweeps have no "
                         "indices)", file=str(folder))
    try:
        meta = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, UnicodeDecodeError, json.JSONDecodeError):
        meta = {}  # the indices alone still make the table
    if not isinstance(meta, dict):
        meta = {}
    return {"folder": folder, "meta": meta,
            "indices": _read_table(indices_path, ["output", "input", "S1", "S1_conf", "ST", "ST_conf"])}


def _read_table(path: Path, columns: list[str]) -> pd.DataFrame:
    """A Parquet table of a run or sweep folder, checked at the door: readable, with these columns."""
    try:
        table = read_parquet(path).to_pandas()
    except Exception as err:  # pyarrow raises several kinds for a damaged file
        raise InputError(f"cannot read {path.name} ({err.__class__.__name__})", file=str(path)) from None
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(f"not a zjsim {path.stem} table: column(s) {', '.join(missing)} missing", file=str(path))
    return table


def plan_history() -> dict[str, dict]:
    with (CALIBRATION_DIR / "plan_history_2015_2020.csv").open(encoding="utf-8") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


def _number(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None  # ratios such as 7:25:68 and bounds such as >95 are not plotted


# -- building ------------------------------------------------------------------
def choose_scenarios(run: RunFolder, wanted: list[str] | None, baseline: str | None) -> tuple[list[str], str | None]:
    available = list(dict.fromkeys(run.frame["scenario"]))
    chosen = wanted or available
    unknown = [name for name in chosen if name not in available]
    if unknown:
        raise InputError(f"scenario(s) {', '.join(unknown)} not in the run; its scenarios are: {', '.join(available)}",
                         key="--scenarios")
    if len(set(chosen)) != len(chosen):
        raise InputError(f"a scenario is named twice: {', '.join(chosen)}", key="--scenarios")
    if baseline is not None and baseline not in chosen:
        raise InputError(f"baseline scenario '{baseline}' is not among the report's scenarios: {', '.join(chosen)}",
                         key="--baseline")
    if baseline is None and len(chosen) > 1:
        baseline = "baseline" if "baseline" in chosen else chosen[0]
    return chosen, baseline


def build_report(run: RunFolder, scenarios: list[str] | None = None, baseline: str | None = None) -> Report:
    chosen, baseline = choose_scenarios(run, scenarios, baseline)
    frame = run.frame[run.frame["scenario"].isin(chosen)]
    replicates = int(frame.groupby("scenario")["replicate"].nunique().min())
    notes = list(run.notes)
    if replicates == 1:
        notes.append("Each scenario has a single replicate: there are no intervals, and the probability of meeting a "
                     "target is 0 or 1 (it only says whether this one run met it). Run with --replicates 20 or more "
                     "for intervals.")
    elif replicates < FEW_REPLICATES:
        notes.append(f"Each scenario has {replicates} replicates: with fewer than {FEW_REPLICATES} the 5-95% intervals "
                     "and the probabilities are rough. Run with --replicates 40 for decisions.")
    draws = load_draws(run.path)
    if draws is None:
        notes.append("The parameters were fixed at calibration/params.toml (--uncertainty fixed): the intervals and "
                     "probabilities show chance only, not what we do not know about the model's parameters.")
    last_period = frame.loc[frame["period"].str.len() == 7, "period"].max()
    if not run.reaches_target_year:
        notes.append(f"The run ends in {last_period}: the 2025 targets cannot be judged, so the dashboard is left "
                     "out and the scenarios are compared in the last full year.")
    styles = charts.scenario_styles(chosen)
    names = indicator_names()
    plans = plan_indicators()
    figures: dict = {}

    dashboard, overview = _dashboard(run, chosen, plans) if run.targets is not None else ([], [])
    if dashboard:
        figures["verdicts"] = charts.verdict_matrix(
            [_short(p["name_en"]) for p in plans if any(g["id"] == p["id"] for g in dashboard)], chosen,
            {(_short(g["name_en"]), r["scenario"]): (r["verdict"], r["probability"]) for g in dashboard for r in g["rows"]})

    points = read_observed()
    fans = []
    history = plan_history()
    bands = _bands(frame, plans)
    for item in [*plans, *({"id": key, "kind": "context"} for key in CONTEXT)]:
        key = item["id"]
        if key not in bands:
            continue
        zh, en, unit = names[key]
        spec = _fan_spec(item, en, unit, bands[key], chosen, history.get(HISTORY_IDS.get(key, key)))
        spec.observed = _observed_on_chart(points, key)
        figures[f"fan_{key}"] = charts.fan_chart(spec, styles)
        fans.append({"id": key, "name_zh": zh, "name_en": en, "unit": unit, "figure": f"fan_{key}",
                     "caption": _fan_caption(item, spec)})

    comparison = None
    if baseline is not None:
        comparison = _comparison(frame, baseline, plans, names, run.reaches_target_year)
        figures["comparison"] = charts.comparison_chart(comparison["panels"], styles)

    funds = _funds(frame, bands, chosen, baseline, names, styles, figures, run.targets)
    who_gains = _who_gains(frame, chosen, baseline, names, styles, figures)

    context = {
        "run": _run_facts(run, chosen, replicates, last_period, draws),
        "notes": notes,
        "scenarios": chosen,
        "baseline": baseline,
        "replicates": replicates,
        "overview": overview,
        "dashboard": dashboard,
        "dashboard_has_parameters": run.targets is not None and "from_parameters" in run.targets,
        "fans": fans,
        "comparison": comparison,
        "funds": funds,
        "who_gains": who_gains,
        "sensitivity": [_sensitivity(sweep, plans, names) for sweep in run.sweeps],
        "track_record": _track_record(frame, points, baseline or chosen[0], names),
        "thresholds": {"met": f"{MET:.0%}", "at_risk": f"{AT_RISK:.0%}"},
        "symbols": charts.VERDICT_SYMBOLS,
    }
    return Report(context=context, figures=figures, notes=notes)


def _short(name_en: str) -> str:
    """A plan name without its parenthesised qualifier, for figure labels."""
    return name_en.split(" (")[0]


def _run_facts(run: RunFolder, chosen: list[str], replicates: int, last_period: str, draws: list[int] | None) -> dict:
    manifest = run.manifest
    descriptions = {}
    for record in manifest.get("scenarios", []):
        try:
            descriptions[record["name"]] = str(tomllib.loads(record.get("text", "")).get("description", ""))
        except (tomllib.TOMLDecodeError, RecursionError, ValueError, TypeError):
            descriptions[record["name"]] = ""
    code = manifest.get("code", {})
    commit = str(code.get("git_commit") or "unknown commit")  # the manifest's types are checked, not its contents
    return {
        "id": manifest.get("run_id", run.path.name),
        "folder": str(run.path),
        "started": manifest.get("started_at", "unknown"),
        "finished": manifest.get("finished_at", "unknown"),
        "scenarios": [{"name": name, "description": descriptions.get(name, "")} for name in chosen],
        "replicates": replicates,
        "uncertainty": (f"posterior: {len(set(draws))} parameter sets drawn from {_posterior_name(manifest)}, "
                        "two replicates each, the same in every scenario" if draws is not None
                        else "fixed: the parameters of calibration/params.toml in every replicate (chance only)"),
        "scale": manifest.get("scale"),
        "seed": manifest.get("seed"),
        "window": f"{manifest.get('start', '?')} to {manifest.get('end', last_period)}",
        "code": f"zjsim {code.get('version', '?')}, {commit[:12]}" + (" with uncommitted changes" if code.get("git_dirty") else ""),
        "calibration": (manifest.get("calibration_sha256") or "")[:12],
        "python": manifest.get("python", "?"),
        "packages": ", ".join(f"{k} {v}" for k, v in manifest.get("packages", {}).items() if v),
    }


def _posterior_name(manifest: dict) -> str:
    record = manifest.get("uncertainty") or {}
    return f"{record.get('posterior', '?')} (SHA-256 {str(record.get('posterior_sha256', ''))[:12]})"


def _dashboard(run: RunFolder, chosen: list[str], plans: list[dict]) -> tuple[list[dict], list[dict]]:
    """Groups of rows (one group per plan indicator, one row per scenario) and
    the verdict counts per scenario."""
    table = run.targets[run.targets["scenario"].isin(chosen)]
    groups = []
    for plan in plans:
        rows = table[table["indicator"] == plan["id"]].set_index("scenario")
        if rows.empty:
            continue
        groups.append({
            "id": plan["id"], "name_zh": plan["name_zh"], "name_en": plan["name_en"], "unit": plan["unit"],
            "base_2020": _cell(rows["base_2020"].iloc[0]), "target_2025": _cell(float(plan["target_2025"])),
            "target_value": float(plan["target_2025"]),
            "rule": COMPARISON_WORDS[plan["comparison"]].format(format_number(float(plan["target_2025"]))),
            "rows": [_dashboard_row(name, rows.loc[name]) for name in chosen if name in rows.index],
        })
    overview = []
    for name in chosen:
        verdicts = [r["verdict"] for g in groups for r in g["rows"] if r["scenario"] == name]
        overview.append({"scenario": name, "total": len(verdicts),
                         **{v.replace(" ", "_"): verdicts.count(v) for v in ("met", "at risk", "missed")}})
    return groups, overview


def _cell(value: float) -> dict:
    """A number as the page shows it, and exactly (for checks and copy-paste)."""
    value = float(value)
    return {"text": format_number(value), "exact": repr(value)}


def _dashboard_row(scenario: str, row: pd.Series) -> dict:
    replicates = int(row["replicates"])
    return {
        "scenario": scenario, "median": _cell(row["median"]), "p05": _cell(row["p05"]), "p95": _cell(row["p95"]),
        "interval": replicates > 1, "probability": float(row["probability"]),
        "probability_text": f"{row['probability']:.0%}", "probability_exact": repr(float(row["probability"])),
        "verdict": row["verdict"], "verdict_class": row["verdict"].replace(" ", "-"), "replicates": replicates,
        "from_parameters": share_text(row.get("from_parameters", float("nan"))),
    }



def _bands(frame: pd.DataFrame, plans: list[dict]) -> dict[str, dict[str, charts.Bands]]:
    """indicator -> scenario -> quantile bands over replicates.  Stocks and
    rates month by month; cumulative targets as the running total since
    January 2021; annual flows year by year."""
    kinds = {p["id"]: p["kind"] for p in plans} | {key: "context" for key in (*CONTEXT, *FUNDS)}
    monthly = frame["period"].str.len() == 7
    out: dict[str, dict[str, charts.Bands]] = {}
    for (indicator, scenario), rows in frame[frame["indicator"].isin(kinds)].groupby(["indicator", "scenario"], sort=False):
        kind = kinds[indicator]
        if kind == "flow_annual":
            rows = rows[~monthly.loc[rows.index] & (rows["period"] >= str(FIRST_YEAR))]
        else:
            rows = rows[monthly.loc[rows.index]]
        if rows.empty:
            continue
        table = rows.pivot(index="replicate", columns="period", values="value").sort_index(axis=1)
        values = table.to_numpy(dtype=float)
        if kind == "flow_cumulative_5y":
            values = np.cumsum(values, axis=1)
        x = np.array([charts.month_position(p) for p in table.columns])
        out.setdefault(indicator, {})[scenario] = charts.Bands.from_values(x, values)
    return out


def _fan_spec(item: dict, name_en: str, unit: str, bands: dict, chosen: list[str], history: dict | None) -> charts.FanSpec:
    kind = item["kind"]
    key = item["id"]
    spec = charts.FanSpec(title=name_en, unit=unit, bands={name: bands[name] for name in chosen if name in bands})
    where = (lambda year: year + 0.5) if kind == "flow_annual" else charts.end_of_year
    label = HISTORY_LABELS.get(key, "plan column 1")
    if kind == "flow_cumulative_5y":
        spec.title = _short(name_en) + ": running total since January 2021"
        total = _number(history["actual_2020"]) if history else None
        if total is not None:
            # The previous five years' total at the same pace: a guide, not data per month.
            spec.reference = ([FIRST_YEAR, charts.end_of_year(TARGET_YEAR)], [0.0, total],
                              f"2016-2020 pace ({format_number(total)} in 5 years)")
    else:
        known = {2015: _number(history["value_2015"]), 2020: _number(history["actual_2020"])} if history else {}
        known.setdefault(2020, None)
        if known[2020] is None:
            known[2020] = _number(item.get("base_2020"))
        years = [year for year, value in known.items() if value is not None]
        spec.history = [(where(year), known[year]) for year in years]
        spec.history_label = f"{label}, {'-'.join(map(str, years))}"
    if "target_2025" in item:
        target = float(item["target_2025"])
        spec.target = (where(TARGET_YEAR), target)
        spec.target_label = "2025 target: " + COMPARISON_WORDS[item["comparison"]].format(format_number(target))
    return spec


def _observed_on_chart(points: list, key: str) -> list[tuple[float, float]]:
    """Published stocks and rates of one indicator, where the fan chart puts them
    (end of year for annual values, mid-month for monthly ones)."""
    return [(charts.end_of_year(int(p.period)) if len(p.period) == 4 else charts.month_position(p.period), p.value)
            for p in points if p.indicator == key and p.kind in ("stock", "rate") and not p.bound]


def _track_record(frame: pd.DataFrame, points: list, scenario: str, names: dict) -> dict:
    """The backtest of one scenario of the run (`zjsim backtest`): the rows the
    run covers, and how many published points lie outside its window."""
    table = backtest_table(frame, points, scenario)
    covered = table[table["status"] != "not simulated"]
    rows = []
    for r in covered.itertuples():
        zh, en, unit = names.get(r.indicator, ("", r.indicator, ""))
        rows.append({"id": r.indicator, "name_zh": zh, "name_en": en, "period": r.period, "kind": r.kind,
                     "confidence": r.confidence, "bound": r.bound, "observed": _cell(r.observed),
                     "median": _cell(r.median), "p05": _cell(r.p05), "p95": _cell(r.p95),
                     "error": f"{r.error:+.2f} {r.error_unit}", "tolerance": f"{r.tolerance:g} {r.error_unit}",
                     "status": r.status, "source": r.source})
    return {"scenario": scenario, "rows": rows, "outside_window": int(len(table) - len(covered)),
            "within": int((covered["status"] == "within").sum()), "failed": int(len(failed(covered)))}


def _fan_caption(item: dict, spec: charts.FanSpec) -> str:
    kind = item["kind"]
    what = {"flow_cumulative_5y": "Running total of the monthly flow since January 2021",
            "flow_annual": "Annual total, 2021-2025",
            }.get(kind, "Month by month from the end-2020 baseline")
    parts = [f"{what}: median (line) with the 50% and 90% bands over replicates."]
    if spec.history:
        parts.append(f"Squares: {spec.history_label}.")
    if spec.observed:
        parts.append("Open diamonds: published figures (calibration/observed.csv), the model's track record.")
    if spec.reference:
        parts.append(f"Dashed guide: {spec.reference[2]}, for scale.")
    if spec.target:
        parts.append(f"Star: {spec.target_label}.")
    if BY_ID[item["id"]].kind == "rate":
        parts.append("The target is judged on the 2025 annual value; monthly values scatter around it.")
    return " ".join(parts)


def _difference_rows(table: pd.DataFrame, wanted: list[tuple[str, str]], names: dict) -> tuple[list, list]:
    """The rows and the dot-and-whisker panels of a comparison table (from
    `compare_table`), for each (indicator, period) wanted that it holds:
    each scenario's median, the baseline's, and the paired difference with
    its 5-95% interval."""
    rows, panels = [], []
    for key, period in wanted:
        chosen = table[(table["indicator"] == key) & (table["period"] == period)]
        if chosen.empty:
            continue
        zh, en, unit = names[key]
        whiskers = []
        for r in chosen.itertuples():
            rows.append({"id": key, "name_zh": zh, "name_en": en, "unit": unit, "period": r.period,
                         "scenario": r.scenario, "median": _cell(r.median), "baseline_median": _cell(r.baseline_median),
                         "difference": _cell(r.difference), "p05": _cell(r.difference_p05),
                         "p95": _cell(r.difference_p95), "replicates": r.replicates, "interval": r.replicates > 1})
            whiskers.append(charts.Whisker(r.scenario, r.difference, r.difference_p05, r.difference_p95))
        panels.append(charts.ComparisonPanel(_short(en), unit, whiskers))
    return rows, panels


def _comparison(frame: pd.DataFrame, baseline: str, plans: list[dict], names: dict, judged_2025: bool) -> dict:
    year = TARGET_YEAR if judged_2025 else int(frame.loc[frame["period"].str.len() == 4, "period"].max())
    table = compare_table(frame, baseline, [year])
    cumulative = {p["id"] for p in plans if p["kind"] == "flow_cumulative_5y"} if judged_2025 else set()
    period_of = lambda key: f"{FIRST_YEAR}-{TARGET_YEAR}" if key in cumulative else str(year)  # noqa: E731
    order = [p["id"] for p in plans] + list(CONTEXT)
    rows, panels = _difference_rows(table, [(key, period_of(key)) for key in order], names)
    return {"year": year, "rows": rows, "panels": panels}


def _funds(frame: pd.DataFrame, bands: dict, chosen: list[str], baseline: str | None, names: dict, styles: dict,
           figures: dict, targets: pd.DataFrame | None) -> dict | None:
    """The funds section: each fund indicator's path under every scenario to the
    end of the run, the verdicts of the sustainability rules (from the targets
    table), and each scenario's paired difference against the baseline in the
    run's last full year (what its levers do to the funds)."""
    present = [key for key in FUNDS if key in bands]
    if not present:
        return None  # a run folder from before the funds existed
    fans = []
    for key in present:
        zh, en, unit = names[key]
        spec = charts.FanSpec(title=en, unit=unit, bands={name: bands[key][name] for name in chosen if name in bands[key]})
        figures[f"fund_{key}"] = charts.fan_chart(spec, styles)
        fans.append({"id": key, "name_zh": zh, "name_en": en, "unit": unit, "figure": f"fund_{key}"})
    section = {"fans": fans, "year": None, "rows": [], "verdicts": []}
    if targets is not None and "rule_set" in targets:
        judged = targets[(targets["rule_set"] == "sustainability") & targets["scenario"].isin(chosen)]
        for r in judged.itertuples():
            section["verdicts"].append({
                "id": r.indicator, "name_zh": r.name_zh, "name_en": r.name_en, "unit": r.unit, "year": r.period,
                "rule": COMPARISON_WORDS[r.comparison].format(format_number(float(r.target))),
                **_dashboard_row(r.scenario, pd.Series(r._asdict()))})
    years = frame.loc[(frame["period"].str.len() == 4) & frame["indicator"].isin(present), "period"]
    if baseline is None or years.empty:
        return section
    year = int(years.max())
    table = compare_table(frame[frame["indicator"].isin(present)], baseline, [year])
    section["rows"], panels = _difference_rows(table, [(key, str(year)) for key in present], names)
    if panels:
        figures["funds_comparison"] = charts.comparison_chart(panels, styles)
    section["year"] = year
    return section


# The distribution table of the "who gains" section: urban unit employees.
DISTRIBUTION_ROWS = ("wage_p10_unit", "wage_p50_unit", "wage_p90_unit", "wage_p90_p10_unit", "wage_p50_p10_unit",
                     "wage_gini_unit", "low_pay_share_unit", "middle_band_share_unit", "minimum_wage_bite", "kaitz_index",
                     "wage_gini_employed", "low_pay_share_employed")


def _who_gains(frame: pd.DataFrame, chosen: list[str], baseline: str | None, names: dict, styles: dict,
               figures: dict) -> dict | None:
    """The "who gains" section (sim/distribution.py): the wage quantiles at the
    start and in the last full year per scenario, the minimum wage's bite by
    tier, the distribution's summary table, and each scenario's paired effect
    on employment and work income by group against the baseline."""
    from .distribution import DEFINITIONS, GROUP_IDS, LABELS, POPULATIONS, QUANTILES, TIERS
    from .targets import group_effects

    annual = frame[(frame["period"].str.len() == 4) & frame["indicator"].isin([row[0] for row in DEFINITIONS])]
    if annual.empty:
        return None  # a run folder from before the distribution was recorded
    years = sorted(set(annual["period"]))
    first, last = years[0], years[-1]
    values = annual[annual["period"].isin([first, last])].groupby(["scenario", "period", "indicator"])["value"].median()
    quantile_keys = {name: [f"wage_p{q}_{name}" for q in QUANTILES] for name in POPULATIONS}

    def series_of(keys, x, scenario, period, label, style):
        y = [values.get((scenario, period, key), np.nan) for key in keys]
        return charts.Series(label, x, y, style)

    start_style = {"color": charts.HISTORY_COLOUR, "linestyle": ":", "marker": "s"}
    panels = []
    for name, who in POPULATIONS.items():
        series = [series_of(quantile_keys[name], list(QUANTILES), chosen[0], first, f"{first} (start)", start_style)]
        series += [series_of(quantile_keys[name], list(QUANTILES), s, last, f"{s} {last}", styles[s]) for s in chosen]
        panels.append(charts.LinePanel(f"Wage percentiles, {who}", "percentile", "yuan a month", series,
                                       [(q, f"P{q}") for q in QUANTILES]))
    tiers = [f"minimum_wage_bite_tier{t}" for t in range(1, TIERS + 1)]
    series = [series_of(tiers, list(range(1, TIERS + 1)), chosen[0], first, f"{first} (start)", start_style)]
    series += [series_of(tiers, list(range(1, TIERS + 1)), s, last, f"{s} {last}", styles[s]) for s in chosen]
    panels.append(charts.LinePanel("Paid at most 5% above the minimum, by tier", "minimum-wage tier", "%", series,
                                   [(t, str(t)) for t in range(1, TIERS + 1)]))
    figures["wage_distribution"] = charts.line_panels(panels)

    rows = []
    for key in DISTRIBUTION_ROWS:
        zh, en, unit = names[key]
        rows.append({"id": key, "name_zh": zh, "name_en": en, "unit": unit,
                     "start": _cell(values.get((chosen[0], first, key), np.nan)),
                     "cells": [{"scenario": s, "value": _cell(values.get((s, last, key), np.nan))} for s in chosen]})
    section = {"first": first, "last": last, "rows": rows, "groups": [], "baseline": baseline}
    group_keys = [f"{kind}_{g}" for g in GROUP_IDS for kind in ("employed", "income")] + ["employed"]
    chosen_frame = frame[frame["indicator"].isin(group_keys)]
    if baseline is None or len(chosen) < 2 or chosen_frame.empty:
        return section
    effects = group_effects(compare_table(chosen_frame, baseline, [int(last)]))
    if effects.empty:
        return section
    group_panels = []
    for group in ("all", *GROUP_IDS):
        chosen_rows = effects[effects["group"] == group]
        if chosen_rows.empty:
            continue
        whiskers = [charts.Whisker(r.scenario, r.employed_difference, r.employed_difference_p05,
                                   r.employed_difference_p95) for r in chosen_rows.itertuples()]
        group_panels.append(charts.ComparisonPanel(LABELS.get(group, "all employed"), "10k persons", whiskers))
        for r in chosen_rows.itertuples():
            section["groups"].append({
                "group": group, "dimension": r.dimension, "name_en": r.name_en, "scenario": r.scenario,
                "employed": _cell(r.employed), "difference": _cell(r.employed_difference),
                "p05": _cell(r.employed_difference_p05), "p95": _cell(r.employed_difference_p95),
                "income_difference": _cell(r.income_difference), "income_p05": _cell(r.income_difference_p05),
                "income_p95": _cell(r.income_difference_p95), "interval": r.replicates > 1})
    figures["group_effects"] = charts.comparison_chart(group_panels, styles)
    return section


def _sensitivity(sweep: dict, plans: list[dict], names: dict) -> dict:
    indices = sweep["indices"]
    inputs = list(dict.fromkeys(indices["input"]))
    by_key = indices.set_index(["output", "input"])
    rows = []
    for plan in plans:
        key = plan["id"]
        if key not in set(indices["output"]):
            continue
        cells = [{"text": f"{by_key.loc[(key, i), 'ST']:.2f} ± {by_key.loc[(key, i), 'ST_conf']:.2f}",
                  "strong": bool(by_key.loc[(key, i), "ST"] >= 0.1)} for i in inputs]
        deciders = []
        probability = f"probability:{key}"
        if probability in set(indices["output"]):
            strong = indices[(indices["output"] == probability) & (indices["ST"] >= 0.1)].sort_values("ST", ascending=False)
            deciders = [f"{r.input} ({r.ST:.2f})" for r in strong.itertuples()]
        rows.append({"id": key, "name_zh": names[key][0], "name_en": names[key][1], "cells": cells,
                     "deciders": ", ".join(deciders) or "none of the varied inputs"})
    meta = sweep["meta"]
    ranges = [f"{i['name']} {format_number(float(i['lo']))} to {format_number(float(i['hi']))}"
              for i in meta.get("inputs", []) if {"name", "lo", "hi"} <= set(i)]
    try:
        scenario = tomllib.loads(meta.get("scenario", "")).get("name", "?")
    except tomllib.TOMLDecodeError:
        scenario = "?"
    return {"folder": str(sweep["folder"]), "scenario": scenario, "inputs": inputs, "rows": rows, "ranges": ranges,
            "method": meta.get("method", "sobol"), "points": meta.get("points"), "replicates": meta.get("replicates"),
            "scale": meta.get("scale")}


# -- writing -------------------------------------------------------------------
FEW_FIGURES = 8  # below this, drawing in this process beats starting workers


@contextlib.contextmanager
def drawing_pool():
    """Worker processes that draw figures (one per core, at most 4), or None on
    one core.  Drawing is matplotlib's pure-Python layout, so threads would not
    help; the workers are started before the figures are built, so their
    start-up overlaps that work.  The bytes do not depend on the pool: every
    figure is drawn by the same code with the same fixed style."""
    cores = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 4)
    if cores < 2:
        yield None
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(cores, mp_context=multiprocessing.get_context("forkserver")) as pool:
        pool.submit(int)  # start the workers now
        yield pool


def draw_all(figures: dict, draw, pool=None) -> dict[str, bytes]:
    """{stem: draw(figure)}, on the pool when there is one and enough figures."""
    if pool is None or len(figures) < FEW_FIGURES:
        return {stem: draw(figure) for stem, figure in figures.items()}
    return dict(zip(figures, pool.map(draw, figures.values(), chunksize=2)))


def render_html(report: Report, pool=None) -> str:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    environment = Environment(loader=PackageLoader("sim", "templates"), autoescape=select_autoescape(["j2", "html"]),
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    images = {stem: "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
              for stem, svg in draw_all(report.figures, charts.to_svg, pool).items()}
    return environment.get_template(TEMPLATE).render(images=images, **report.context)


def write_report(run_dir: str | Path, out: str | Path | None = None, *, scenarios: list[str] | None = None,
                 baseline: str | None = None, png_dir: str | Path | None = None,
                 sweep_dirs: tuple[str, ...] = ()) -> tuple[Path, list[Path], list[str]]:
    """Write the report (default: RUN_DIR/report.html) and, with png_dir, every
    figure as PNG.  Returns (report path, PNG paths, notes)."""
    target = Path(out) if out is not None else Path(run_dir) / "report.html"
    if target.suffix.lower() not in (".html", ".htm"):
        raise InputError("the report is an HTML file: give a name ending in .html", file=str(target), key="--out")
    run = read_run(run_dir, sweep_dirs)
    writable_folder(target.parent, "--out")
    if png_dir is not None:
        writable_folder(png_dir, "--png")
    with drawing_pool() as pool:
        report = build_report(run, scenarios, baseline)
        html = render_html(report, pool)
        _write_atomically(target, html.encode("utf-8"), "--out")
        pngs = []
        if png_dir is not None:
            folder = Path(png_dir)
            for stem, png in draw_all(report.figures, charts.to_png, pool).items():
                path = folder / f"{stem}.png"
                _write_atomically(path, png, "--png")
                pngs.append(path)
    return target, pngs, report.notes


def _write_atomically(path: Path, data: bytes, option: str) -> None:
    """Whole or not at all: a temporary file beside the target, then a rename."""
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as err:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        raise InputError(f"cannot write the file ({err.strerror})", file=str(path), key=option) from None
