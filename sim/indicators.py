"""The plan's indicators, computed from the agents under the official definitions.

Each indicator declares its id (as in `plan_indicators_2025.csv`), unit, how a
month's value is computed and how a year's value is formed from the months.
Counts are converted to real-world units (persons = rows x scale).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .status import Status, is_employed

TEN_THOUSAND = 1e4


@dataclass(frozen=True)
class Indicator:
    id: str
    unit: str
    annual: str  # "end": December value; "mean": mean of months; "sum": total of months; "custom"
    definition: str
    monthly: Callable  # (model, snapshot) -> value


def _snapshot(model) -> dict:
    """Counts shared by several indicators, computed once a month."""
    people = model.people
    status, urban = people.status, people.urban
    employed = is_employed(status)
    unemployed = status == Status.UNEMP
    urban_units = (status == Status.UNIT) & urban
    return {
        "alive": int((status != Status.ABSENT).sum()),
        "employed": int(employed.sum()),
        "unemployed": int(unemployed.sum()),
        "urban_employed": int((employed & urban).sum()),
        "urban_unemployed": int((unemployed & urban).sum()),
        "urban_unit_employees": int(urban_units.sum()),
        "urban_unit_wage_bill": float(people.wage[urban_units].sum(dtype=np.float64)),
    }


def _persons(key: str) -> Callable:
    return lambda model, snap: snap[key] * model.scale / TEN_THOUSAND


def _unemployment_rate(model, snap) -> float:
    labour_force = snap["urban_employed"] + snap["urban_unemployed"]
    return 100.0 * snap["urban_unemployed"] / labour_force if labour_force else float("nan")


def _new_urban_jobs(model, snap) -> float:
    flows = model.flows
    attrition = flows["retirements_employed_urban"] + flows["deaths_employed_urban"]
    return (flows["urban_job_entries"] - attrition) * model.scale / TEN_THOUSAND


def _average_wage(model, snap) -> float:
    count = snap["urban_unit_employees"]
    return 12.0 * snap["urban_unit_wage_bill"] / count if count else float("nan")


def _minimum_to_average(model, snap) -> float:
    return 100.0 * 12.0 * float(model.minimum_wage[0]) / _average_wage(model, snap)


INDICATORS = (
    Indicator("resident_population", "10k persons", "end", "Residents at the end of the period.", _persons("alive")),
    Indicator("employed", "10k persons", "end",
              "Employed persons: unit employees, self-employed and flexible workers, at the end of the period.",
              _persons("employed")),
    Indicator("labour_force", "10k persons", "end", "Employed plus unemployed (ILO), at the end of the period.",
              lambda model, snap: (snap["employed"] + snap["unemployed"]) * model.scale / TEN_THOUSAND),
    Indicator("surveyed_unemployment_rate", "%", "mean",
              "ILO unemployed (without work, seeking and available) over the urban labour force, urban residents; "
              "the year's value is the mean of its months, as published.", _unemployment_rate),
    Indicator("new_urban_jobs", "10k persons", "sum",
              "Urban job entries (urban residents entering unit, self- or flexible employment from unemployment, "
              "inactivity, school or another province) minus natural attrition (urban employed who retire or die).",
              _new_urban_jobs),
    Indicator("average_wage", "yuan per year", "custom",
              "Social average wage: total wages of urban unit employees over their average number, per year "
              "(full-caliber urban unit average wage).", _average_wage),
    Indicator("minimum_wage_to_average_wage", "%", "custom",
              "Tier-1 monthly minimum wage x 12 over the social average wage; the year's value uses the minimum in "
              "force in December and the year's average wage.", _minimum_to_average),
)
BY_ID = {indicator.id: indicator for indicator in INDICATORS}


class Recorder:
    """Collects monthly values and forms annual ones."""

    def __init__(self):
        self.monthly: list[tuple[int, str, float]] = []
        self._wage_bill: dict[int, list[float]] = {}
        self._minimum: dict[int, float] = {}

    def record(self, model, month: int, flows: bool = True) -> dict:
        snap = _snapshot(model)
        values = {}
        for indicator in INDICATORS:
            if indicator.annual == "sum" and not flows:
                continue
            values[indicator.id] = float(indicator.monthly(model, snap))
            self.monthly.append((month, indicator.id, values[indicator.id]))
        bill = self._wage_bill.setdefault(month // 12, [0.0, 0.0])
        bill[0] += snap["urban_unit_wage_bill"]
        bill[1] += snap["urban_unit_employees"]
        self._minimum[month // 12] = float(model.minimum_wage[0])
        return values

    def annual_average_wage(self, year: int) -> float:
        bill, count = self._wage_bill[year]
        return 12.0 * bill / count

    def annual(self) -> list[tuple[int, str, float]]:
        """(year, id, value) for every year with a December record."""
        by_year: dict[int, dict[str, list[tuple[int, float]]]] = {}
        for month, key, value in self.monthly:
            by_year.setdefault(month // 12, {}).setdefault(key, []).append((month, value))
        rows = []
        for year, series in sorted(by_year.items()):
            if year * 12 + 11 not in {m for m, _ in series["resident_population"]}:
                continue  # incomplete year: no annual value
            for indicator in INDICATORS:
                if indicator.id not in series:
                    continue
                values = [v for _, v in sorted(series[indicator.id])]
                if indicator.annual == "end":
                    value = values[-1]
                elif indicator.annual == "mean":
                    value = float(np.mean(values))
                elif indicator.annual == "sum":
                    value = float(np.sum(values))
                elif indicator.id == "average_wage":
                    value = self.annual_average_wage(year)
                else:  # minimum_wage_to_average_wage
                    value = 100.0 * 12.0 * self._minimum[year] / self.annual_average_wage(year)
                rows.append((year, indicator.id, value))
        return rows
