"""Scenario files: what a modeller writes, validated in full before anything runs.

A scenario is a TOML file (see `scenarios/baseline.toml` for a commented
example).  Every key is checked against the schema below: an unknown key, a
value of the wrong type or out of range, or a month outside the supported run
window gives one `InputError` naming the file, the key and what is allowed.
"""

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .policy import MinimumWagePolicy, Policy
from .timeline import format_month, parse_month

FIRST_START = parse_month("2021-01")  # the model starts from the end-2020 baseline
LAST_END = parse_month("2035-12")  # the horizon the calibration is meant for

TOP_KEYS = {
    "name": "text: the scenario's name in result tables",
    "description": "text",
    "seed": "whole number >= 0: the root seed of the run",
    "scale": "number >= 1: persons represented by one row",
    "start": f"month YYYY-MM, {format_month(FIRST_START)} (the month after the 2020 baseline)",
    "end": f"month YYYY-MM from start to {format_month(LAST_END)}",
    "minimum_wage": "table",
    "retirement": "table",
}
MINIMUM_WAGE_KEYS = {
    "rule": "'fixed' or 'share_of_average_wage'",
    "share": "number from 0.1 to 0.8, or '2020' to hold the 2020 ratio",
    "first_adjustment": f"month YYYY-MM from the run's start to {format_month(LAST_END)}",
    "interval_months": "whole number from 1 to 120",
    "schedule": "array of tables {from = 'YYYY-MM', tiers = [four yuan amounts, falling]}",
}
RETIREMENT_KEYS = {"reform": "true or false: the national statutory retirement-age reform from 2025-01"}


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    seed: int
    scale: float
    start: int
    end: int
    policy: Policy
    path: str
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


class _Checker:
    """Type and range checks that raise InputError naming the file and key."""

    def __init__(self, path: str):
        self.path = path

    def fail(self, key: str, message: str):
        raise InputError(message, file=self.path, key=key)

    def keys(self, table: dict, allowed: dict, prefix: str = "") -> None:
        for key in table:
            if key not in allowed:
                self.fail(prefix + key, f"unknown key; allowed keys are: {', '.join(allowed)}")

    def text(self, key: str, value) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"value {value!r} is not allowed; expected non-empty text")
        return value

    def integer(self, key: str, value, lo: int, hi: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < lo or (hi is not None and value > hi):
            bounds = f"from {lo} to {hi}" if hi is not None else f">= {lo}"
            self.fail(key, f"value {value!r} is not allowed; expected a whole number {bounds}")
        return value

    def number(self, key: str, value, lo: float, hi: float | None = None) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < lo or (hi is not None and value > hi):
            bounds = f"from {lo} to {hi}" if hi is not None else f">= {lo}"
            self.fail(key, f"value {value!r} is not allowed; expected a number {bounds}")
        return float(value)

    def month(self, key: str, value, lo: int, hi: int) -> int:
        try:
            month = parse_month(value)
        except ValueError:
            self.fail(key, f"value {value!r} is not a month; expected YYYY-MM")
        if not lo <= month <= hi:
            self.fail(key, f"month {value} is outside the allowed range {format_month(lo)} to {format_month(hi)}")
        return month


def load_scenario(path: str | Path, *, seed: int | None = None, scale: float | None = None,
                  start: str | None = None, end: str | None = None) -> Scenario:
    """Read and validate a scenario file; command-line overrides are validated the same way."""
    path = Path(path)
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("scenario file not found", file=shown) from None
    except (IsADirectoryError, UnicodeDecodeError, PermissionError) as err:
        raise InputError(f"cannot read the scenario file ({err.__class__.__name__})", file=shown) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"not valid TOML: {err}", file=shown) from None

    check = _Checker(shown)
    check.keys(data, TOP_KEYS)
    if "name" not in data:
        check.fail("name", "missing; every scenario needs a name")
    name = check.text("name", data["name"])
    description = check.text("description", data.get("description", name))
    seed_value = check.integer("--seed" if seed is not None else "seed", seed if seed is not None else data.get("seed", 1), 0)
    scale_value = check.number("--scale" if scale is not None else "scale", scale if scale is not None else data.get("scale", 100), 1.0)
    start_m = check.month("--start" if start else "start", start or data.get("start", "2021-01"), FIRST_START, FIRST_START)
    end_m = check.month("--end" if end else "end", end or data.get("end", "2025-12"), start_m, LAST_END)

    minimum_wage = _minimum_wage(check, data.get("minimum_wage", {}), start_m)
    retirement = data.get("retirement", {})
    if not isinstance(retirement, dict):
        check.fail("retirement", "expected a table")
    check.keys(retirement, RETIREMENT_KEYS, "retirement.")
    reform = retirement.get("reform", True)
    if not isinstance(reform, bool):
        check.fail("retirement.reform", f"value {reform!r} is not allowed; expected true or false")

    return Scenario(
        name=name, description=description, seed=seed_value, scale=scale_value, start=start_m, end=end_m,
        policy=Policy(minimum_wage=minimum_wage, retirement_reform=reform), path=shown, text=text,
    )


def _minimum_wage(check: _Checker, table, start: int) -> MinimumWagePolicy:
    """Dated minimum-wage policy; dates may lie past the run's end (they then never apply)."""
    if not isinstance(table, dict):
        check.fail("minimum_wage", "expected a table")
    check.keys(table, MINIMUM_WAGE_KEYS, "minimum_wage.")
    rule = table.get("rule", "fixed")
    if rule not in ("fixed", "share_of_average_wage"):
        check.fail("minimum_wage.rule", f"value {rule!r} is not allowed; expected {MINIMUM_WAGE_KEYS['rule']}")
    if rule == "fixed":
        for key in ("share", "first_adjustment", "interval_months"):
            if key in table:
                check.fail(f"minimum_wage.{key}", "only allowed with rule = 'share_of_average_wage'")
        schedule = table.get("schedule", [])
        if not isinstance(schedule, list):
            check.fail("minimum_wage.schedule", f"expected {MINIMUM_WAGE_KEYS['schedule']}")
        entries = []
        for i, entry in enumerate(schedule):
            key = f"minimum_wage.schedule[{i}]"
            if not isinstance(entry, dict) or set(entry) != {"from", "tiers"}:
                check.fail(key, f"expected {MINIMUM_WAGE_KEYS['schedule']}")
            month = check.month(key + ".from", entry["from"], start, LAST_END)
            tiers = entry["tiers"]
            if (not isinstance(tiers, list) or len(tiers) != 4
                    or not all(isinstance(t, (int, float)) and not isinstance(t, bool) and 500 <= t <= 20000 for t in tiers)
                    or sorted(tiers, reverse=True) != tiers):
                check.fail(key + ".tiers", f"value {tiers!r} is not allowed; expected four yuan amounts from 500 to 20000, tier 1 highest")
            entries.append((month, tuple(float(t) for t in tiers)))
        if [m for m, _ in entries] != sorted({m for m, _ in entries}):
            check.fail("minimum_wage.schedule", "months must be distinct and in increasing order")
        return MinimumWagePolicy(rule="fixed", schedule=tuple(entries))

    if "schedule" in table:
        check.fail("minimum_wage.schedule", "only allowed with rule = 'fixed'")
    share = table.get("share", "2020")
    share_value = None if share == "2020" else check.number("minimum_wage.share", share, 0.1, 0.8)
    if "first_adjustment" not in table:
        check.fail("minimum_wage.first_adjustment", f"missing; expected {MINIMUM_WAGE_KEYS['first_adjustment']}")
    first = check.month("minimum_wage.first_adjustment", table["first_adjustment"], start, LAST_END)
    interval = check.integer("minimum_wage.interval_months", table.get("interval_months", 12), 1, 120)
    return MinimumWagePolicy(rule="share_of_average_wage", share=share_value, first_adjustment=first, interval_months=interval)
