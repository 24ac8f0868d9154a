"""Load the calibration folder: 2020 stocks, behavioural parameters, age shape.

`calibration/baseline_2020.toml` holds the end-2020 stocks (each with its unit,
kind and source); `calibration/params.toml` the behavioural parameters of the
processes.  Both are read into flat dictionaries keyed by dotted names
("labour.employed_total"), so a missing or malformed entry is reported with the
file and key it belongs to.  `calibration/macro.toml` holds the dated macro
conditions (`sim.macro`).
"""

import csv
import hashlib
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .errors import InputError
from .levers import ASSUMPTIONS, DATED_DEFAULTS, LEVERS
from .macro import load_macro

CALIBRATION_DIR = Path(__file__).resolve().parent.parent / "calibration"
BASELINE_YEARS = (2015, 2020)  # years with a baseline_<year>.toml
# The paths of macro.toml: the scenario assumptions and the levers whose default is a dated path.
MACRO_PATHS = {**ASSUMPTIONS, **{name: LEVERS[name] for name in DATED_DEFAULTS}}


def _flatten(table: dict, prefix: str = "") -> dict[str, dict]:
    """Dotted key -> entry (a dict with at least `value`)."""
    flat = {}
    for key, item in table.items():
        name = f"{prefix}{key}"
        if isinstance(item, dict) and "value" in item:
            flat[name] = item
        elif isinstance(item, dict):
            flat.update(_flatten(item, name + "."))
    return flat


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise InputError("calibration file is missing", file=str(path)) from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"not valid TOML ({err})", file=str(path)) from None


@dataclass
class EntryFile:
    """A calibration TOML file: look values up by dotted key."""

    path: Path
    entries: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> "EntryFile":
        return cls(path, _flatten(_read_toml(path)))

    def __call__(self, key: str):
        try:
            value = self.entries[key]["value"]
        except KeyError:
            raise InputError("entry is missing", file=str(self.path), key=key) from None
        if isinstance(value, list):
            return np.asarray(value, dtype=float)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise InputError(f"value {value!r} is not a number", file=str(self.path), key=key)
        return float(value)

    def with_values(self, values: dict[str, float]) -> "EntryFile":
        """A copy with some values replaced; keys are dotted names, or
        `name[i]` for an element of a vector entry."""
        entries = {key: dict(entry) for key, entry in self.entries.items()}
        for key, value in values.items():
            match = ELEMENT.match(key)
            if match is None or match["name"] not in entries:
                raise InputError("no such parameter", file=str(self.path), key=key)
            name, index = match["name"], match["index"]
            if index is None:
                entries[name]["value"] = float(value)
            else:
                vector = list(entries[name]["value"])
                vector[int(index)] = float(value)
                entries[name]["value"] = vector
        return EntryFile(self.path, entries)


ELEMENT = re.compile(r"^(?P<name>[\w.]+?)(\[(?P<index>\d+)\])?$")  # "section.key" or "section.key[i]"
_SECTION = re.compile(r"^\[(?P<section>[\w.]+)\]\s*(#.*)?$")
_VALUE = re.compile(r"^(?P<key>\w+)\s*=\s*\{\s*value\s*=\s*(?P<literal>\[[^\]]*\]|[-+0-9.eE_]+)")


def _literal(value) -> str:
    """A TOML literal for a point value, to six significant digits."""
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    text = f"{float(value):.6g}"
    return text if any(c in text for c in ".en") else text + ".0"


FIT_NOTE = "the best-fitting accepted particle of the posterior calibration (zjsim calibrate --write; posterior_report.md)"
_STATUS = re.compile(r'status\s*=\s*"[^"]*"')
_FIT = re.compile(r'fit\s*=\s*"[^"]*"')


def _mark_fitted(line: str, how: str) -> str:
    """An entry line whose value the calibration wrote: status fitted, and its fit says how."""
    line = _STATUS.sub('status = "fitted"', line, count=1)
    if _FIT.search(line):
        return _FIT.sub(lambda _: f'fit = "{how}"', line, count=1)
    return _STATUS.sub(lambda _: f'status = "fitted", fit = "{how}"', line, count=1)


def write_point_values(path: Path, values: dict[str, float], how: str = FIT_NOTE) -> str:
    """The text of a calibration file (params.toml) with some point values
    replaced (keys as in `EntryFile.with_values`), every other byte kept:
    comments, priors and notes stay as written.  Checked by reading it back."""
    updated = EntryFile.load(path).with_values(values)
    wanted = {ELEMENT.match(key)["name"] for key in values}
    lines, section, done = [], "", set()
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        header = _SECTION.match(line)
        if header:
            section = header["section"] + "."
        match = _VALUE.match(line)
        if match and section + match["key"] in wanted:
            name = section + match["key"]
            line = line[:match.start("literal")] + _literal(updated.entries[name]["value"]) + line[match.end("literal"):]
            line = _mark_fitted(line, how.replace('"', "'"))
            done.add(name)
        lines.append(line)
    if done != wanted:
        raise InputError("cannot find the one-line entries " + ", ".join(sorted(wanted - done)), file=str(path))
    text = "".join(lines)
    check = _flatten(tomllib.loads(text))
    for name in wanted:
        if not np.allclose(check[name]["value"], updated.entries[name]["value"], rtol=1e-5, atol=0.0):
            raise InputError("the rewritten value does not read back", file=str(path), key=name)
    return text


@dataclass
class Calibration:
    stocks: EntryFile
    params: EntryFile
    age_shape: np.ndarray  # relative size of each single-year age 0..104
    digest: str  # SHA-256 over the calibration files, for the manifest
    baseline_year: int = 2020
    macro: dict = field(default_factory=dict)  # name -> sim.macro.MacroPath (calibration/macro.toml)

    @property
    def baseline_month(self) -> int:
        """December of the baseline year: the date of the synthetic population."""
        return self.baseline_year * 12 + 11

    @classmethod
    def load(cls, directory: Path = CALIBRATION_DIR, baseline_year: int = 2020) -> "Calibration":
        directory = Path(directory)
        if baseline_year not in BASELINE_YEARS:
            raise InputError(f"no baseline for {baseline_year}; baselines exist for {', '.join(map(str, BASELINE_YEARS))}")
        stocks_file = f"baseline_{baseline_year}.toml"
        digest = hashlib.sha256()
        for name in (stocks_file, "params.toml", "age_shape_2020.csv", "macro.toml"):
            path = directory / name
            if not path.exists():
                raise InputError("calibration file is missing", file=str(path))
            digest.update(name.encode() + b"\0" + path.read_bytes())
        return cls(
            baseline_year=baseline_year,
            stocks=EntryFile.load(directory / stocks_file),
            params=EntryFile.load(directory / "params.toml"),
            age_shape=_shift_cohorts(_read_age_shape(directory / "age_shape_2020.csv"), 2020 - baseline_year),
            digest=digest.hexdigest(),
            macro=load_macro(directory / "macro.toml", MACRO_PATHS),
        )

    def with_parameters(self, values: dict[str, float] | None) -> "Calibration":
        """This calibration with some behavioural parameters replaced (a posterior draw)."""
        if not values:
            return self
        return replace(self, params=self.params.with_values(values))


def _shift_cohorts(shape: np.ndarray, years: int) -> np.ndarray:
    """The single-year shape `years` before the census: each cohort that many
    years younger (people aged a+years in 2020 were aged a then).  Deaths and
    migration in between are left to the broad-group shares of the baseline.

    Answers to the seam between the two baselines: the end-2015 population was
    built with the 2020 shape within age groups, so the large cohorts born in
    the 1960s stood five years too old and retired too early."""
    if years <= 0:
        return shape
    return np.concatenate([shape[years:], np.full(years, shape[-1])])


def _read_age_shape(path: Path) -> np.ndarray:
    """Single-year weights 0..104 from five-year groups, spread evenly within each group."""
    shape = np.zeros(105)
    try:
        with path.open(newline="") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                lo, hi, size = int(row["age_from"]), int(row["age_to"]), float(row["persons_millions"])
                if not (0 <= lo <= hi <= 104) or size < 0:
                    raise ValueError(f"line {line}: ages {lo}-{hi} or size {size} out of range")
                shape[lo : hi + 1] = size / (hi - lo + 1)
    except (KeyError, ValueError) as err:
        raise InputError(f"malformed age table ({err}); columns age_from,age_to,persons_millions", file=str(path)) from None
    return shape
