"""Fitting the model's behavioural rates to the 13th plan period (2016-2020).

The model is built from the end-2015 baseline (`calibration/baseline_2015.toml`)
and run to December 2020 under the policies of the period (the minimum wage of
2017-12); the simulated 2020 values are compared with the plan's column 1
actuals and the 2020 baseline stocks (`MOMENTS`), and the engine of
`sim.calibrate` fits the parameters of `PARAMETERS` within their bounds.
"""

import functools
import re
from dataclasses import replace
from pathlib import Path

import numpy as np

from .calibrate import Moment, Parameter, Result, calibrate, report
from .calibration import CALIBRATION_DIR, Calibration, EntryFile
from .levers import Levers
from .model import LabourModel
from .policy import MinimumWagePolicy
from .timeline import parse_month

START_YEAR, END_YEAR = 2015, 2020
TOLERANCE = 0.15  # each moment within 15% of its target at scale 1000 or finer (checked by tests/test_fit.py)

# Parameters fitted, their bounds and the moment each mostly serves.
PARAMETERS = [
    Parameter("insurance.enrolment_catch_up[0]", 0.001, 0.05, "pension_insured"),
    Parameter("insurance.enrolment_catch_up[1]", 0.001, 0.05, "unemployment_insured"),
    Parameter("insurance.enrolment_catch_up[2]", 0.001, 0.08, "work_injury_insured"),
    Parameter("talent.junior_title_rate", 0.001, 0.03, "professional_technical_talent"),
    Parameter("talent.senior_rate", 0.0005, 0.012, "senior_title_talent"),
    Parameter("training.level_weight[2]", 1.0, 30.0, "high_skilled_talent"),
    Parameter("public_services.card_issue_rate", 0.005, 0.1, "social_security_card_holders"),
    Parameter("demography.other_province_outflow_rate", 0.005, 0.06, "new_urban_jobs_2016_2020"),
    Parameter("training.incumbent_recognition_rate", 0.0001, 0.005, "skilled_talent"),
    Parameter("matching.participation_elasticity", 0.0, 3.0, "employed"),
]
# 2020 actuals of the plan's column 1 (calibration/plan_history_2015_2020.csv)
# and the plan's 2020 base values (column 2).
MOMENTS = [
    Moment("pension_insured", 4355.0),
    Moment("unemployment_insured", 1687.0),
    Moment("work_injury_insured", 2546.0),
    Moment("professional_technical_talent", 610.0),
    Moment("senior_title_talent", 45.3),
    Moment("high_skilled_talent", 321.8),
    Moment("social_security_card_holders", 6065.0),
    Moment("new_urban_jobs_2016_2020", 606.0),
    Moment("skilled_talent", 1013.0),  # plan column 2 base (calibration/observed.csv)
    Moment("employed", 3860.0),  # baseline_2020.toml employed_total
]
# Minimum-wage tiers in force over the period (sources_zhejiang_2020.csv).
PERIOD_MINIMUM_WAGE = MinimumWagePolicy(rule="fixed", schedule=((parse_month("2017-12"), (2010.0, 1800.0, 1660.0, 1500.0)),))

_KEY = re.compile(r"^(?P<name>[\w.]+?)(\[(?P<index>\d+)\])?$")


def with_parameters(params: EntryFile, values: dict[str, float]) -> EntryFile:
    """A copy of the parameter file with some values (or list elements) replaced."""
    entries = {key: dict(entry) for key, entry in params.entries.items()}
    for key, value in values.items():
        match = _KEY.match(key)
        name, index = match["name"], match["index"]
        if index is None:
            entries[name]["value"] = float(value)
        else:
            vector = list(entries[name]["value"])
            vector[int(index)] = float(value)
            entries[name]["value"] = vector
    return EntryFile(params.path, entries)


def period_moments(calibration: Calibration, values: dict[str, float], seed: np.random.SeedSequence, scale: float) -> dict[str, float]:
    """Run 2016-2020 from the 2015 baseline with these parameter values; the simulated moments."""
    fitted = replace(calibration, params=with_parameters(calibration.params, values))
    model = LabourModel(seed=seed, scale=scale, calibration=fitted,
                        policy=Levers(minimum_wage=PERIOD_MINIMUM_WAGE, schedules={}))
    model.run_until(parse_month(f"{END_YEAR}-12"))
    annual = {(year, key): value for year, key, value in model.recorder.annual()}
    moments = {m.name: annual.get((END_YEAR, m.name), float("nan")) for m in MOMENTS if m.name in _stock_names()}
    moments["new_urban_jobs_2016_2020"] = sum(annual[(y, "new_urban_jobs")] for y in range(START_YEAR + 1, END_YEAR + 1))
    return moments


def period_task(values: dict[str, float], seed: np.random.SeedSequence, scale: float) -> dict[str, float]:
    """`period_moments` as a picklable task for the executors (loads the 2015 calibration itself)."""
    return period_moments(Calibration.load(baseline_year=START_YEAR), values, seed, scale)


def _stock_names() -> set[str]:
    from .indicators import BY_ID

    return set(BY_ID)


def shipped_values(params: EntryFile) -> dict[str, float]:
    """The fitted parameters' values in a parameter file (list elements by index)."""
    values = {}
    for parameter in PARAMETERS:
        match = _KEY.match(parameter.name)
        value = params(match["name"])
        values[parameter.name] = float(value[int(match["index"])] if match["index"] is not None else value)
    return values


def fit(points: int, replicates: int, scale: float, local_evaluations: int, seed: int,
        checkpoint: Path | None, executor=None, refine: bool = False) -> tuple[Result, str]:
    """Run the calibration; with `refine`, the local search may start from the
    shipped values of params.toml when they beat the design's best point."""
    start = shipped_values(Calibration.load(baseline_year=START_YEAR).params) if refine else None
    result = calibrate(functools.partial(period_task, scale=scale), PARAMETERS, MOMENTS,
                       points=points, replicates=replicates, local_evaluations=local_evaluations, seed=seed,
                       checkpoint=checkpoint, executor=executor, start=start)
    settings = {"baseline": START_YEAR, "points": points, "replicates": replicates, "scale": scale,
                "local evaluations": local_evaluations, "seed": seed, "refine": refine,
                "tolerance per moment": f"{TOLERANCE:.0%}"}
    return result, report(PARAMETERS, MOMENTS, result, settings)


def write_parameters(result: Result, path: Path = CALIBRATION_DIR / "params.toml") -> None:
    """Put the fitted values into params.toml, with their bounds and moment, keeping every comment."""
    text = path.read_text(encoding="utf-8")
    section = None
    lines = []
    fitted = {p.name: (p, v) for p, v in zip(PARAMETERS, result.best.x)}
    for line in text.splitlines():
        header = re.match(r"^\[(\w+)\]", line)
        if header:
            section = header.group(1)
        key = re.match(r"^(\w+) = \{ value = (\[[^\]]*\]|[-\d.e]+)", line)
        if key and section:
            name = f"{section}.{key.group(1)}"
            hits = {k: pv for k, pv in fitted.items() if _KEY.match(k)["name"] == name}
            if hits:
                value = key.group(2)
                for full, (parameter, fitted_value) in hits.items():
                    index = _KEY.match(full)["index"]
                    if index is None:
                        value = f"{fitted_value:.6g}"
                    else:
                        vector = [v.strip() for v in value.strip("[]").split(",")]
                        vector[int(index)] = f"{fitted_value:.6g}"
                        value = "[" + ", ".join(vector) + "]"
                line = re.sub(r', fit = "[^"]*"', "", line)
                bounds = "; ".join(f"{p.name} in [{p.lo:g}, {p.hi:g}] for {p.moment}" for p, _ in hits.values())
                line = re.sub(r"value = (\[[^\]]*\]|[-\d.e]+), status = \"[a-z]+\"",
                              f'value = {value}, status = "fitted", fit = "{bounds}"', line)
        lines.append(line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
