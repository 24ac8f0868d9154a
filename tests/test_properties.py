"""Property-based tests (hypothesis): whatever the input, exit status 0 or 2 (1 for a
reproduce that differs), one message and never a traceback, and nothing written
outside the folders the command owns.

Inputs: generated scenario files (valid keys with wild values, unknown keys,
deep or odd structures), command-line arguments of `run`, and run folders
whose files are damaged or replaced.  Each test tallies its outcomes
(accepted, clean error), printed after the module with `pytest -s`."""

import json
import math
import shutil
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.levers import ASSUMPTIONS, LEVERS

ROOT = Path(__file__).resolve().parent.parent
OUTCOMES: dict[str, Counter] = {}
SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def toml_value(value) -> str:
    """A Python value as TOML (inline tables and arrays; nan and inf as TOML has them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON strings are TOML basic strings
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"


scalars = st.one_of(st.booleans(), st.integers(min_value=-10**20, max_value=10**20),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
                    st.sampled_from(["2021-01", "2016-01", "2025-12", "2035-12", "2036-01", "２０２１-01", "", "2021-13"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=3)),
                      max_leaves=8)
top_keys = st.sampled_from(["name", "description", "seed", "scale", "start", "end", "format", "extends", "surprise"])
lever_names = st.sampled_from([*LEVERS, "minimum_wage", "no_such_lever"])
minimum_wage = st.fixed_dictionaries({}, optional={
    "rule": st.sampled_from(["fixed", "share_of_average_wage", "other"]),
    "share": st.one_of(st.floats(allow_nan=True), st.just("2020"), values),
    "first_adjustment": st.sampled_from(["2021-08", "2030-01", "x"]),
    "interval_months": st.one_of(st.integers(-5, 200), values),
    "schedule": values,
})


@st.composite
def scenario_texts(draw) -> str:
    top = draw(st.dictionaries(top_keys, values, max_size=5))
    top.setdefault("format", 1)
    top.setdefault("name", draw(st.text(min_size=1, max_size=20)))
    if draw(st.booleans()):  # half the files extend the shipped baseline, as real ones do
        top["extends"] = str(ROOT / "scenarios" / "baseline.toml")
    lines = [f"{k} = {toml_value(v)}" for k, v in top.items()]
    levers = draw(st.dictionaries(lever_names, st.one_of(values, st.floats(0.0, 2.0), st.booleans()), max_size=4))
    if draw(st.booleans()):
        levers["minimum_wage"] = draw(minimum_wage)
    if levers:
        lines.append("[levers]")
        lines += [f"{k} = {toml_value(v)}" for k, v in levers.items()]
    assumptions = draw(st.dictionaries(st.sampled_from([*ASSUMPTIONS, "weather"]), values, max_size=2))
    if assumptions:
        lines.append("[assumptions]")
        lines += [f"{k} = {toml_value(v)}" for k, v in assumptions.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module", autouse=True)
def print_outcomes():
    """After the module: the tallies (for the closing note; seen with pytest -s)."""
    yield
    for test, counts in OUTCOMES.items():
        print(f"\n{test}: {sum(counts.values())} inputs, {counts['accepted']} accepted, "
              f"{counts['clean error']} clean errors, 0 tracebacks")


def tally(test: str, result, allowed=(0, 2), accepted: bool | None = None) -> None:
    """The property: an allowed exit status, and no exception other than the exit itself."""
    assert result.exit_code in allowed, (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    accepted = result.exit_code == 0 if accepted is None else accepted
    OUTCOMES.setdefault(test, Counter())["accepted" if accepted else "clean error"] += 1


def files_outside(folder: Path) -> set[Path]:
    return {p for p in folder.parent.iterdir() if p != folder}


@SETTINGS
@given(text=scenario_texts())
def test_generated_scenario_files_validate_or_give_one_message(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("scenario")
    path = folder / "s.toml"
    path.write_text(text, encoding="utf-8")
    before = files_outside(folder)
    for command in (["scenario", "validate"], ["scenario", "show"]):
        tally("scenario files", CliRunner().invoke(main, [*command, str(path)]))
    assert files_outside(folder) == before


run_options = st.fixed_dictionaries({}, optional={
    "--seed": st.one_of(st.integers(-5, 2**70), st.text(max_size=5)),
    "--scale": st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5)),
    "--replicates": st.one_of(st.integers(-3, 10**7), st.text(max_size=4)),
    "--jobs": st.one_of(st.integers(-3, 10**4), st.text(max_size=4)),
    "--start": st.sampled_from(["", "2021-01", "2016-01", "2020-01", "x", "２０２１-01"]),
    "--end": st.sampled_from(["", "2021-01", "2025-12", "2040-01", "x"]),
    "--executor": st.sampled_from(["local", "dask", "cloud"]),
    "--scheduler": st.sampled_from(["", "not a url", "tcp://127.0.0.1:1", "tcp://[::1]:99999"]),
    "--uncertainty": st.sampled_from(["posterior", "fixed", "maybe"]),
    "--out": st.sampled_from(["out", "", "/dev/null/x"]),
})


@SETTINGS
@given(options=run_options)
def test_run_arguments_are_accepted_or_refused_with_one_message(tmp_path_factory, monkeypatch, options):
    """The arguments of `run`, up to the point where a valid run would start simulating."""
    from sim import runner

    started = []

    def fake_run(scenarios, out_dir, **kwargs):  # stands in for the simulation: the property is about the arguments
        started.append((scenarios, out_dir, kwargs))
        raise runner.InputError("stopped before simulating (test)")

    monkeypatch.setattr(runner, "run_scenarios", fake_run)
    folder = tmp_path_factory.mktemp("args")
    arguments = ["run", str(ROOT / "scenarios" / "baseline.toml")]
    for key, value in options.items():
        arguments += [key, str(value) if key != "--out" or not value or value.startswith("/") else str(folder / value)]
    before = files_outside(folder)
    result = CliRunner().invoke(main, arguments)
    tally("run arguments", result, accepted=bool(started))
    assert files_outside(folder) == before
    if started:
        scenarios, out_dir, kwargs = started[0]
        assert 1 <= kwargs["replicates"] <= 10000 and 1 <= kwargs["jobs"] <= 256
        assert all(math.isfinite(s.scale) and 1 <= s.scale <= 1e6 for s in scenarios)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    from sim.runner import run_scenarios
    from sim.scenario import load_scenario

    out = tmp_path_factory.mktemp("finished")
    scenarios = [load_scenario(ROOT / "scenarios" / name, scale=20000, end="2021-12") for name in ("baseline.toml", "plan.toml")]
    return run_scenarios(scenarios, out, replicates=2).folder


json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)),
                           lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                           max_leaves=6)
MANIFEST_KEYS = ["scenarios", "seed", "replicates", "scale", "outputs", "uncertainty", "run_id", "code", "packages"]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(MANIFEST_KEYS + ["indicators.parquet", "targets.parquet", "manifest.json"]),
       value=json_values, data=st.binary(max_size=300))
def test_damaged_run_folders_give_one_message(finished_run, tmp_path_factory, key, value, data):
    folder = tmp_path_factory.mktemp("damaged") / "run"
    shutil.copytree(finished_run, folder)
    if key.endswith(".parquet"):
        (folder / key).write_bytes(data)
    elif key == "manifest.json":
        (folder / key).write_bytes(data)
    else:
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest[key] = value
        (folder / "manifest.json").write_text(json.dumps(manifest))
    before = files_outside(folder.parent)
    for command in (["targets"], ["compare"], ["report", "--out", str(folder / "r.html")]):
        tally("damaged run folders", CliRunner().invoke(main, [*command, str(folder)]))
    if key in ("seed", "replicates", "scale", "outputs", "scenarios", "manifest.json"):
        out = folder.parent / "again"
        result = CliRunner().invoke(main, ["reproduce", str(folder), "--out", str(out)])
        tally("damaged run folders", result, allowed=(0, 1, 2))
    assert files_outside(folder.parent) <= before | {folder.parent / "again"}
