"""Scenario files: what a modeller writes, validated in full before anything runs.

Format 1 (TOML; `scenarios/baseline.toml` is a commented example):

    format = 1
    name = "plan"                       # required, the scenario's name in result tables
    description = "..."
    extends = "baseline.toml"           # optional parent, relative to this file
    seed = 20201231                     # root seed (replicate seeds are its children)
    scale = 100                         # persons per row
    start = "2021-01"                   # from the end-2020 baseline; "2016-01" from the end-2015 one
    end = "2025-12"                     # up to 2035-12

    [levers]                            # see sim/levers.py for every lever
    training_volume = 1.5                               # from the start
    platform_injury_protection = { from = "2022-01", value = true }   # a step
    postdoc_quota = { path = [["2021-01", 1300], ["2025-12", 1100]] } # interpolated

    [levers.minimum_wage]
    rule = "share_of_average_wage"      # or "fixed" with schedule = [{from, tiers}]
    share = 0.40                        # or "2020", or { path = [...] }
    first_adjustment = "2021-08"
    interval_months = 12

    [assumptions]                       # macro conditions (sim/levers.py ASSUMPTIONS);
    wage_growth_private = { path = [["2023-01", 0.06]] }   # default: calibration/macro.toml

A child changes only what it names: top-level keys replace the parent's, and
each lever it names replaces the parent's schedule for that lever.  Every key is
checked: an unknown key or lever, a wrong type, a value out of range, a month
outside the run, a missing parent or a cycle of `extends` gives one
`InputError` naming the file, the key and what is allowed.
"""

import hashlib
import math
import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError
from .calibration import BASELINE_YEARS
from .levers import ASSUMPTIONS, LEVERS, Levers, Schedule
from .policy import MinimumWagePolicy
from .timeline import format_month, parse_month

FORMAT = 1
# A run starts the month after a synthetic baseline population: January 2016
# (end-2015 baseline, for the backtest) or January 2021 (end-2020, the default).
STARTS = tuple(parse_month(f"{year + 1}-01") for year in BASELINE_YEARS)
FIRST_START = parse_month("2021-01")  # the default start
LAST_END = parse_month("2035-12")  # the horizon the calibration is meant for

TOP_KEYS = {
    "format": f"the format version, {FORMAT}",
    "name": "text: the scenario's name in result tables",
    "description": "text",
    "extends": "path of a parent scenario file, relative to this file",
    "seed": "whole number from 0 to 2**63-1: the root seed of the run",
    "scale": "number from 1 to 1e6: persons represented by one row",
    "start": f"month YYYY-MM, {' or '.join(map(format_month, STARTS))} (the month after the 2015 or 2020 baseline)",
    "end": f"month YYYY-MM from start to {format_month(LAST_END)}",
    "levers": "table of levers",
    "assumptions": "table of macro conditions (wage_growth_private, wage_growth_non_private, labour_demand_growth, net_migration, college_intake)",
}
MINIMUM_WAGE_KEYS = {
    "rule": "'fixed' or 'share_of_average_wage'",
    "share": "number from 0.1 to 0.8, '2020' to hold the 2020 ratio, or {path = [[month, share], ...]}",
    "first_adjustment": "month YYYY-MM within the run",
    "interval_months": "whole number from 1 to 120",
    "schedule": "array of tables {from = 'YYYY-MM', tiers = [four yuan amounts, tier 1 highest]}",
}


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    seed: int
    scale: float
    start: int
    end: int
    levers: Levers
    path: str
    text: str
    files: tuple[tuple[str, str], ...] = field(default=())  # (path, text) of the file and its parents

    @property
    def baseline_year(self) -> int:
        """The year whose end-of-year population the run starts from."""
        return self.start // 12 - 1

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

    def name(self, key: str, value) -> str:
        """A scenario name: it names tables and becomes part of a folder name."""
        self.text(key, value)
        if len(value) > NAME_LIMIT or any(c in value for c in "/\\") or not value.isprintable():
            self.fail(key, f"value {value[:40]!r}... is not allowed; expected at most {NAME_LIMIT} printable "
                           "characters without / or \\" if len(value) > 40 else
                      f"value {value!r} is not allowed; expected at most {NAME_LIMIT} printable characters "
                      "without / or \\")
        return value

    def integer(self, key: str, value, lo: int, hi: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < lo or (hi is not None and value > hi):
            bounds = f"from {lo} to {hi}" if hi is not None else f">= {lo}"
            self.fail(key, f"value {value!r} is not allowed; expected a whole number {bounds}")
        return value

    def number(self, key: str, value, lo: float | None, hi: float | None = None) -> float:
        if (isinstance(value, bool) or not isinstance(value, (int, float)) or abs(value) > 1e15
                or not math.isfinite(value)  # NaN passes every comparison: refuse it and infinities first
                or (lo is not None and value < lo) or (hi is not None and value > hi)):
            if lo is not None and hi is not None:
                bounds = f" from {lo:g} to {hi:g}"
            elif lo is not None:
                bounds = f" >= {lo}"
            else:
                bounds = ""
            self.fail(key, f"value {value!r} is not allowed; expected a number{bounds}")
        return float(value)

    def month(self, key: str, value, lo: int, hi: int) -> int:
        try:
            month = parse_month(value)
        except ValueError:
            self.fail(key, f"value {value!r} is not a month; expected YYYY-MM")
        if not lo <= month <= hi:
            self.fail(key, f"month {value} is outside the allowed range {format_month(lo)} to {format_month(hi)}")
        return month


MAX_SEED = 2**63 - 1  # numpy's seed sequences take any whole number; manifests store it as JSON
MAX_SCALE = 1e6  # persons per row: at 1e6 the province is a few dozen rows
MAX_FILE_BYTES = 256 * 1024  # a scenario file is a few kilobytes; anything larger is not one
MAX_EXTENDS = 16  # files in a chain of extends
NAME_LIMIT = 100  # characters of a scenario name (it becomes part of a folder name)
SCENARIOS_DIR = Path(__file__).resolve().parent.parent / "scenarios"
SEARCH_VARIABLE = "ZJSIM_SCENARIO_PATH"  # more folders `extends` may reach, separated by os.pathsep


def _read(path: Path) -> tuple[str, dict]:
    """A scenario file's text and data: a regular file of at most MAX_FILE_BYTES
    (a device, a FIFO or a directory is refused before it is opened)."""
    shown = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError("scenario file not found", file=shown) from None
    except (OSError, ValueError) as err:  # a symlink loop, a name too long, a NUL byte
        raise InputError(f"cannot read the scenario file ({err.__class__.__name__})", file=shown) from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError("not a regular file; a scenario is a TOML file", file=shown)
    if info.st_size > MAX_FILE_BYTES:
        raise InputError(f"file of {info.st_size} bytes; a scenario file has at most {MAX_FILE_BYTES}", file=shown)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read the scenario file ({err.__class__.__name__})", file=shown) from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"not valid TOML: {err}", file=shown) from None
    except (RecursionError, ValueError) as err:  # nesting too deep; an integer of thousands of digits
        raise InputError(f"not a scenario file ({err.__class__.__name__}: nesting or numbers beyond any scenario)",
                         file=shown) from None


def search_roots(path: Path, extra: tuple[Path, ...] = ()) -> tuple[Path, ...]:
    """Folders whose files `extends` may name: the scenario's own folder, the
    project's scenarios/ folder, and those of ZJSIM_SCENARIO_PATH."""
    roots = [path.parent, SCENARIOS_DIR, *extra]
    roots += [Path(p) for p in os.environ.get(SEARCH_VARIABLE, "").split(os.pathsep) if p]
    resolved = []
    for root in roots:
        try:
            resolved.append(root.resolve())
        except (OSError, RuntimeError):
            continue
    return tuple(resolved)


def _allowed(parent: Path, roots: tuple[Path, ...]) -> bool:
    try:
        target = parent.resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return True  # missing, a loop or a bad name: _read says which
    return any(target.is_relative_to(root) for root in roots)


def _resolve(path: Path, chain: tuple[Path, ...] = (), roots: tuple[Path, ...] = ()) -> tuple[dict, dict[str, str], list[tuple[str, str]]]:
    """The merged data of a file and its parents, which file set each lever, and the files' texts.
    Parents must lie under one of `roots` (`search_roots`)."""
    path = Path(path)
    text, data = _read(path)
    check = _Checker(str(path))
    check.keys(data, TOP_KEYS)
    if "format" in data and (isinstance(data["format"], bool) or data["format"] != FORMAT):
        check.fail("format", f"value {data['format']!r} is not allowed; this version reads format {FORMAT}")
    levers = data.get("levers", {})
    if not isinstance(levers, dict):
        check.fail("levers", "expected a table of levers")
    for name in levers:
        if name != "minimum_wage" and name not in LEVERS:
            check.fail(f"levers.{name}", f"unknown lever; allowed levers are: minimum_wage, {', '.join(LEVERS)}")
    assumptions = data.get("assumptions", {})
    if not isinstance(assumptions, dict):
        check.fail("assumptions", "expected a table of macro conditions")
    for name in assumptions:
        if name not in ASSUMPTIONS:
            check.fail(f"assumptions.{name}", f"unknown macro condition; allowed: {', '.join(ASSUMPTIONS)}")
    _check_own_values(check, data)
    origin = {name: str(path) for name in (*levers, *assumptions)}
    files = [(str(path), text)]
    if "extends" in data:
        extends = check.text("extends", data["extends"])
        if "\0" in extends or len(extends) > 255:
            check.fail("extends", "expected a relative path of at most 255 characters without NUL")
        if len(chain) + 1 >= MAX_EXTENDS:
            check.fail("extends", f"a chain of more than {MAX_EXTENDS} files; shorten it")
        parent = path.parent / extends
        if not _allowed(parent, roots):
            check.fail("extends", f"'{extends}' lies outside the scenario's folder and the scenario search path "
                                  f"({', '.join(map(str, roots))}); add its folder to {SEARCH_VARIABLE} to allow it")
        if _same_file(parent, (*chain, path)):
            check.fail("extends", f"'{data['extends']}' makes a cycle of extends ({' -> '.join(str(p) for p in (*chain, path, parent))})")
        if not parent.exists():
            check.fail("extends", f"parent scenario '{data['extends']}' not found (looked for {parent})")
        base, base_origin, base_files = _resolve(parent, (*chain, path), roots)
        merged = {**base, **{k: v for k, v in data.items() if k not in ("levers", "assumptions")}}
        merged["levers"] = {**base.get("levers", {}), **levers}
        merged["assumptions"] = {**base.get("assumptions", {}), **assumptions}
        merged.pop("extends", None)
        return merged, {**base_origin, **origin}, files + base_files
    return data, origin, files


def _check_own_values(check: "_Checker", data: dict) -> None:
    """Every value a file sets, checked in that file, before a child can override
    it (the merged scenario is then checked against its own run window)."""
    earliest = min(STARTS)
    for key, valid in (("name", check.name), ("description", check.text), ("extends", check.text)):
        if key in data:
            valid(key, data[key])
    if "seed" in data:
        check.integer("seed", data["seed"], 0, MAX_SEED)
    if "scale" in data:
        check.number("scale", data["scale"], 1.0, MAX_SCALE)
    start = _start(check, "start", data["start"]) if "start" in data else FIRST_START
    if "end" in data:
        check.month("end", data["end"], start, LAST_END)
    for name, spec in data.get("levers", {}).items():
        if name == "minimum_wage":
            _minimum_wage(check, spec, earliest, LAST_END)
        else:
            _schedule(check, name, spec, earliest, LAST_END)
    for name, spec in data.get("assumptions", {}).items():
        _schedule(check, name, spec, earliest, LAST_END, "assumptions")


def _same_file(parent: Path, chain: tuple[Path, ...]) -> bool:
    try:
        return parent.resolve() in {p.resolve() for p in chain}
    except (OSError, RuntimeError, ValueError):
        return False


def load_scenario(path: str | Path, *, seed: int | None = None, scale: float | None = None,
                  start: str | None = None, end: str | None = None, search: tuple[Path, ...] = ()) -> Scenario:
    """Read, resolve and validate a scenario file; command-line overrides are validated the same way.
    `search`: more folders whose files `extends` may name (see `search_roots`)."""
    path = Path(path)
    data, origin, files = _resolve(path, roots=search_roots(path, tuple(search)))
    check = _Checker(str(path))
    if "name" not in data or "name" not in tomllib.loads(files[0][1]):
        check.fail("name", "missing; every scenario file needs its own name")
    name = check.name("name", data["name"])
    description = check.text("description", data.get("description", name))
    seed_value = check.integer("--seed" if seed is not None else "seed", seed if seed is not None else data.get("seed", 1),
                               0, MAX_SEED)
    scale_value = check.number("--scale" if scale is not None else "scale", scale if scale is not None else data.get("scale", 100),
                               1.0, MAX_SCALE)
    file_start = _start(check, "start", data.get("start", format_month(FIRST_START)))
    file_end = check.month("end", data.get("end", "2025-12"), file_start, LAST_END)
    start_m = _start(check, "--start", start) if start is not None else file_start
    end_m = check.month("--end", end, start_m, LAST_END) if end is not None else file_end

    levers = data.get("levers", {})
    schedules = {}
    for lever_name, spec in levers.items():
        if lever_name == "minimum_wage":
            continue
        # Dates are checked against the run the file describes; a shorter run
        # from the command line simply ends before later dates apply.
        schedules[lever_name] = _schedule(_Checker(origin[lever_name]), lever_name, spec, file_start, file_end)
    for name, spec in data.get("assumptions", {}).items():
        schedules[name] = _schedule(_Checker(origin[name]), name, spec, file_start, file_end, "assumptions")
    minimum_wage = MinimumWagePolicy()
    if "minimum_wage" in levers:
        minimum_wage = _minimum_wage(_Checker(origin["minimum_wage"]), levers["minimum_wage"], file_start, file_end)
    return Scenario(
        name=name, description=description, seed=seed_value, scale=scale_value, start=start_m, end=end_m,
        levers=Levers(schedules=schedules, minimum_wage=minimum_wage), path=str(path), text=files[0][1],
        files=tuple(files),
    )


def _start(check: _Checker, key: str, value) -> int:
    month = check.month(key, value, 0, LAST_END)
    if month not in STARTS:
        check.fail(key, f"month {value} is not allowed; a run starts in {' or '.join(map(format_month, STARTS))} "
                        "(the month after a baseline population)")
    return month


def _value(check: _Checker, key: str, lever, value):
    if lever.kind is bool:
        if not isinstance(value, bool):
            check.fail(key, f"value {value!r} is not allowed; expected true or false")
        return value
    return check.number(key, value, lever.lo, lever.hi)


def _path_points(check: _Checker, key: str, raw, start: int, end: int, value) -> tuple[tuple[int, object], ...]:
    """[["YYYY-MM", v], ...] -> ((month, value), ...), months within the run and increasing."""
    if not isinstance(raw, list) or not raw:
        check.fail(key, "expected a non-empty list of [\"YYYY-MM\", value] points")
    points = []
    for i, point in enumerate(raw):
        if not isinstance(point, list) or len(point) != 2:
            check.fail(f"{key}[{i}]", "expected [\"YYYY-MM\", value]")
        points.append((check.month(f"{key}[{i}]", point[0], start, end), value(f"{key}[{i}]", point[1])))
    if [m for m, _ in points] != sorted({m for m, _ in points}):
        check.fail(key, "months must be distinct and in increasing order")
    return tuple(points)


def _schedule(check: _Checker, name: str, spec, start: int, end: int, table: str = "levers") -> Schedule:
    lever = (ASSUMPTIONS if table == "assumptions" else LEVERS)[name]
    key = f"{table}.{name}"
    if not isinstance(spec, dict):
        return Schedule(((start, _value(check, key, lever, spec)),))
    if set(spec) == {"from", "value"}:
        month = check.month(key + ".from", spec["from"], start, end)
        return Schedule(((month, _value(check, key + ".value", lever, spec["value"])),))
    if set(spec) == {"path"}:
        points = _path_points(check, key + ".path", spec["path"], start, end, lambda k, v: _value(check, k, lever, v))
        return Schedule(points, mode="step" if lever.kind is bool else "linear")
    allowed = "a value, {from = 'YYYY-MM', value = ...} or {path = [['YYYY-MM', value], ...]}"
    if lever.kind is bool:
        expected = "true or false"
    else:
        expected = f"a number from {lever.lo:g} to {lever.hi:g} ({lever.unit})"
    check.fail(key, f"expected {allowed}, where a value is {expected}")


def _minimum_wage(check: _Checker, table, start: int, end: int) -> MinimumWagePolicy:
    key = "levers.minimum_wage"
    if not isinstance(table, dict):
        check.fail(key, "expected a table")
    check.keys(table, MINIMUM_WAGE_KEYS, key + ".")
    rule = table.get("rule", "fixed")
    if rule not in ("fixed", "share_of_average_wage"):
        check.fail(key + ".rule", f"value {rule!r} is not allowed; expected {MINIMUM_WAGE_KEYS['rule']}")
    if rule == "fixed":
        for name in ("share", "first_adjustment", "interval_months"):
            if name in table:
                check.fail(f"{key}.{name}", "only allowed with rule = 'share_of_average_wage'")
        schedule = table.get("schedule", [])
        if not isinstance(schedule, list):
            check.fail(key + ".schedule", f"expected {MINIMUM_WAGE_KEYS['schedule']}")
        entries = []
        for i, entry in enumerate(schedule):
            entry_key = f"{key}.schedule[{i}]"
            if not isinstance(entry, dict) or set(entry) != {"from", "tiers"}:
                check.fail(entry_key, f"expected {MINIMUM_WAGE_KEYS['schedule']}")
            month = check.month(entry_key + ".from", entry["from"], start, end)
            tiers = entry["tiers"]
            if (not isinstance(tiers, list) or len(tiers) != 4
                    or not all(isinstance(t, (int, float)) and not isinstance(t, bool) and 500 <= t <= 20000 for t in tiers)
                    or sorted(tiers, reverse=True) != tiers):
                check.fail(entry_key + ".tiers", f"value {tiers!r} is not allowed; expected four yuan amounts from 500 to 20000, tier 1 highest")
            entries.append((month, tuple(float(t) for t in tiers)))
        if [m for m, _ in entries] != sorted({m for m, _ in entries}):
            check.fail(key + ".schedule", "months must be distinct and in increasing order")
        return MinimumWagePolicy(rule="fixed", schedule=tuple(entries))

    if "schedule" in table:
        check.fail(key + ".schedule", "only allowed with rule = 'fixed'")
    share = table.get("share", "2020")
    if share == "2020":
        share_value = None
    elif isinstance(share, dict):
        if set(share) != {"path"}:
            check.fail(key + ".share", f"expected {MINIMUM_WAGE_KEYS['share']}")
        points = _path_points(check, key + ".share.path", share["path"], start, end, lambda k, v: check.number(k, v, 0.1, 0.8))
        share_value = Schedule(points, mode="linear")
    else:
        share_value = check.number(key + ".share", share, 0.1, 0.8)
    if "first_adjustment" not in table:
        check.fail(key + ".first_adjustment", f"missing; expected {MINIMUM_WAGE_KEYS['first_adjustment']}")
    first = check.month(key + ".first_adjustment", table["first_adjustment"], start, end)
    interval = check.integer(key + ".interval_months", table.get("interval_months", 12), 1, 120)
    return MinimumWagePolicy(rule="share_of_average_wage", share=share_value, first_adjustment=first, interval_months=interval)


def minimum_wage_table(rule: MinimumWagePolicy) -> dict:
    """The minimum-wage rule as a scenario file writes it ([levers.minimum_wage]),
    so that `scenario show` round-trips through the validator."""
    if rule.rule == "fixed":
        return {"rule": "fixed", "schedule": [{"from": format_month(m), "tiers": list(t)} for m, t in rule.schedule]}
    if isinstance(rule.share, Schedule):
        share = {"path": [[format_month(m), v] for m, v in rule.share.points]}
    else:
        share = "2020" if rule.share is None else rule.share
    table = {"rule": rule.rule, "share": share, "interval_months": rule.interval_months}
    if rule.first_adjustment is not None:
        table["first_adjustment"] = format_month(rule.first_adjustment)
    return table


def describe(scenario: Scenario) -> dict:
    """The fully resolved scenario, as data (for `zjsim scenario show`)."""
    rule = scenario.levers.minimum_wage
    levers = {}
    for name, lever in LEVERS.items():
        schedule = scenario.levers.schedules.get(name)
        levers[name] = {
            "unit": lever.unit,
            "default_2020": lever.default,
            "schedule": schedule.as_data() if schedule else "2020 default",
            "mechanism": lever.mechanism,
            "plan": lever.plan,
        }
    return {
        "name": scenario.name,
        "description": scenario.description,
        "files": [path for path, _ in scenario.files],
        "seed": scenario.seed,
        "scale": scenario.scale,
        "start": format_month(scenario.start),
        "end": format_month(scenario.end),
        "minimum_wage": minimum_wage_table(rule),
        "levers": levers,
        "assumptions": {
            name: {
                "unit": assumption.unit,
                "schedule": scenario.levers.schedules[name].as_data() if name in scenario.levers.schedules
                else "calibration/macro.toml",
                "mechanism": assumption.mechanism,
            }
            for name, assumption in ASSUMPTIONS.items()
        },
    }
