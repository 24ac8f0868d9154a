"""Macro conditions: the economy around the policy, as dated and cited inputs.

Nominal wage growth, the growth of labour demand and net migration from other
provinces are not behaviour the model explains: they are conditions it is
run under.  `calibration/macro.toml` gives each as a path of annual values,
each value with its kind ("realised": from published figures; "projection":
a stated assumption for the years not yet published) and its source.  A value
holds from January of its year until the next one; before the first listed
year the first value holds, after the last the last.  A scenario may replace
a path in its `[assumptions]` table (`sim.levers.ASSUMPTIONS`).
"""

import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

KINDS = ("realised", "projection", "assumption")  # assumption: no figure was published for those years


@dataclass(frozen=True)
class MacroPath:
    name: str
    unit: str
    points: tuple[tuple[int, float, str, str], ...]  # (year, value, kind, source), years increasing

    def at(self, month: int) -> float:
        year = month // 12
        in_force = [value for start, value, _, _ in self.points if start <= year]
        return in_force[-1] if in_force else self.points[0][1]


def load_macro(path: Path, declared: dict) -> dict[str, MacroPath]:
    """Read and check `macro.toml`: every declared condition present, years
    increasing, values within the declared range, each with kind and source."""
    shown = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("calibration file is missing", file=shown) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"not valid TOML ({err})", file=shown) from None
    paths = {}
    for name, spec in declared.items():
        if not isinstance(data.get(name), dict) or not isinstance(data[name].get("values"), list) or not data[name]["values"]:
            raise InputError("missing; expected a table with unit and a non-empty list of values", file=shown, key=name)
        points = []
        for i, entry in enumerate(data[name]["values"]):
            key = f"{name}.values[{i}]"
            if not isinstance(entry, dict) or not {"year", "value", "kind", "source"} <= set(entry):
                raise InputError("expected {year, value, kind, source}", file=shown, key=key)
            year, value, kind = entry["year"], entry["value"], entry["kind"]
            if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
                raise InputError(f"year {year!r} is not allowed; expected a year from 2000 to 2100", file=shown, key=key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not spec.lo <= value <= spec.hi:
                raise InputError(f"value {value!r} is not allowed; expected a number from {spec.lo:g} to {spec.hi:g} ({spec.unit})",
                                 file=shown, key=key)
            if kind not in KINDS:
                raise InputError(f"kind {kind!r} is not allowed; expected one of {', '.join(KINDS)}", file=shown, key=key)
            points.append((year, float(value), kind, str(entry["source"])))
        if [p[0] for p in points] != sorted({p[0] for p in points}):
            raise InputError("years must be distinct and in increasing order", file=shown, key=name)
        paths[name] = MacroPath(name, str(data[name].get("unit", spec.unit)), tuple(points))
    return paths
