"""Untrusted input must not read or write outside where it should (issue 14's security cases)."""

import json
import os
from pathlib import Path

import pytest

from sim.errors import InputError
from sim.levers import LEVERS
from sim.reproduce import read_manifest, scenarios_from_records
from sim.runner import folder_name, resume
from sim.scenario import MAX_EXTENDS, load_scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE_TEXT = (ROOT / "scenarios" / "baseline.toml").read_text()


def scenario(folder: Path, name: str, body: str = "") -> Path:
    path = folder / name
    header = "" if body.startswith("format") else "format = 1\n"
    path.write_text(f'{header}name = "{name.removesuffix(".toml")}"\n{body}', encoding="utf-8")
    return path


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


def test_recorded_paths_that_climb_out_are_rebuilt_inside_the_scratch_folder(tmp_path):
    scratch = tmp_path / "a" / "b" / "scratch"
    scratch.mkdir(parents=True)
    before = files_under(tmp_path) - files_under(scratch)
    records = [{"name": "baseline", "file": "../../../../x.toml", "files": [{"path": "../../../../x.toml", "text": BASELINE_TEXT}]},
               {"name": "other", "file": "/etc/y.toml", "files": [{"path": "/etc/y.toml", "text": BASELINE_TEXT.replace('"baseline"', '"other"')}]}]
    scenarios = scenarios_from_records(records, 1000, scratch)
    assert [s.name for s in scenarios] == ["baseline", "other"]
    assert files_under(tmp_path) - files_under(scratch) == before  # nothing written outside the scratch folder
    assert all(Path(s.path).resolve().is_relative_to(scratch.resolve()) for s in scenarios)
    assert not (tmp_path / "x.toml").exists() and not Path("/etc/y.toml").exists()


@pytest.mark.parametrize("record", [
    {"name": "x", "file": "a\0b", "text": "x"},
    {"name": "x", "file": "", "text": "x"},
    {"name": "x", "file": 7, "text": "x"},
    {"name": "x", "file": "a.toml", "files": [{"path": "a.toml"}]},
    "not a record",
])
def test_malformed_scenario_records_are_refused(tmp_path, record):
    with pytest.raises(InputError):
        scenarios_from_records([record], 1000, tmp_path)


def test_a_tampered_run_id_never_names_a_folder_outside_the_output_folder(tmp_path):
    staging = tmp_path / "out" / ".incomplete-x"
    (staging / "parts").mkdir(parents=True)
    request = {"run_id": "../../../evil", "scenarios": [{"name": "baseline", "file": "b.toml", "text": BASELINE_TEXT}],
               "seed": 1, "replicates": 1, "scale": 1000, "started_at": "2026-01-01T00:00:00+00:00", "command_line": []}
    (staging / "request.json").write_text(json.dumps(request))
    with pytest.raises(InputError, match="not a plain folder name"):
        resume(staging)
    assert not (tmp_path.parent / "evil").exists() and not (tmp_path / "evil").exists()


@pytest.mark.parametrize("change, key, message", [
    (lambda m: m.update(outputs={"../../../../x.txt": "0" * 64}), "outputs", "malformed"),
    (lambda m: m.update(seed="x"), "seed", "malformed"),
    (lambda m: m.update(scenarios="x"), "scenarios", "malformed"),
    (lambda m: m.update(replicates="xx"), "replicates", "malformed"),
    (lambda m: m.update(scale=None), "scale", "malformed"),
    (lambda m: m.pop("outputs"), "outputs", "missing"),
])
def test_a_tampered_manifest_is_refused_at_the_door(tmp_path, change, key, message):
    manifest = {"scenarios": [{"name": "b", "file": "b.toml", "text": BASELINE_TEXT}], "seed": 1,
                "replicates": [{"replicate": 0}], "scale": 1000, "outputs": {"indicators.parquet": "0" * 64}}
    change(manifest)
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match=message) as err:
        read_manifest(tmp_path)
    assert f"key '{key}'" in str(err.value)


@pytest.mark.parametrize("name", ["../../../x", "a/b", "a\\b", "nul\0byte", "x" * 101, "tab\there"])
def test_a_scenario_name_that_is_not_a_plain_name_is_refused(tmp_path, name):
    path = tmp_path / "s.toml"
    path.write_text(f"format = 1\nname = {json.dumps(name)}\n", encoding="utf-8")
    with pytest.raises(InputError, match="key 'name'"):
        load_scenario(path)


def test_run_folders_get_safe_names():
    assert folder_name("plan 40% (最低工资)") == "plan_40___最低工资_"
    assert folder_name("..hidden") == "hidden"
    assert len(folder_name("x" * 100)) == 60


def test_extends_is_restricted_to_the_scenario_folder_and_the_search_path(tmp_path, monkeypatch):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    scenario(outside, "secret.toml")
    inside = tmp_path / "mine"
    inside.mkdir()
    child = scenario(inside, "child.toml", 'extends = "../elsewhere/secret.toml"\n')
    with pytest.raises(InputError, match="outside the scenario's folder"):
        load_scenario(child)
    monkeypatch.setenv("ZJSIM_SCENARIO_PATH", str(outside))
    assert load_scenario(child).name == "child"  # an explicit search path allows it
    sub = inside / "sub"
    sub.mkdir()
    scenario(sub, "parent.toml")
    assert load_scenario(scenario(inside, "c2.toml", 'extends = "sub/parent.toml"\n')).name == "c2"
    shipped = scenario(inside, "c3.toml", f'extends = "{ROOT / "scenarios" / "baseline.toml"}"\n')
    assert load_scenario(shipped).name == "c3"  # the project's scenarios/ folder is on the search path


@pytest.mark.parametrize("target, message", [
    ("/dev/zero", "outside the scenario's folder"),
    ("/etc/passwd", "outside the scenario's folder"),
])
def test_extends_never_reads_system_files(tmp_path, target, message):
    child = scenario(tmp_path, "child.toml", f'extends = "{target}"\n')
    with pytest.raises(InputError, match=message):
        load_scenario(child)


def test_devices_fifos_directories_and_huge_files_are_refused(tmp_path):
    os.mkfifo(tmp_path / "fifo.toml")
    (tmp_path / "dir.toml").mkdir()
    (tmp_path / "huge.toml").write_text('format = 1\nname = "huge"\n' + "# padding\n" * 40000)
    for parent, message in (("fifo.toml", "not a regular file"), ("dir.toml", "not a regular file"),
                            ("huge.toml", "at most")):
        child = scenario(tmp_path, f"c-{parent}", f'extends = "{parent}"\n')
        with pytest.raises(InputError, match=message):
            load_scenario(child)


def test_long_chains_nul_bytes_and_symlink_loops_in_extends_are_refused(tmp_path):
    previous = scenario(tmp_path, "s0.toml")
    for i in range(1, MAX_EXTENDS + 2):
        previous = scenario(tmp_path, f"s{i}.toml", f'extends = "{previous.name}"\n')
    with pytest.raises(InputError, match="chain of more than"):
        load_scenario(previous)
    with pytest.raises(InputError, match="without NUL"):
        load_scenario(scenario(tmp_path, "nul.toml", 'extends = "a\\u0000b"\n'))
    with pytest.raises(InputError, match="at most 255"):
        load_scenario(scenario(tmp_path, "long.toml", f'extends = "{"x" * 300}"\n'))
    os.symlink(tmp_path / "loop-b.toml", tmp_path / "loop-a.toml")
    os.symlink(tmp_path / "loop-a.toml", tmp_path / "loop-b.toml")
    with pytest.raises(InputError):
        load_scenario(scenario(tmp_path, "loop.toml", 'extends = "loop-a.toml"\n'))


def test_deep_nesting_and_huge_integers_are_clean_errors(tmp_path):
    deep = tmp_path / "deep.toml"
    deep.write_text('format = 1\nname = "deep"\nx = ' + "[" * 2000 + "]" * 2000 + "\n")
    with pytest.raises(InputError):
        load_scenario(deep)
    big = tmp_path / "big.toml"
    big.write_text('format = 1\nname = "big"\nseed = ' + "9" * 5000 + "\n")
    with pytest.raises(InputError):
        load_scenario(big)


# Every numeric lever, new ones included (the list was once written out by hand and missed later levers).
NUMERIC_LEVERS = [name for name, lever in LEVERS.items() if lever.kind is float]


@pytest.mark.parametrize("lever", NUMERIC_LEVERS)
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_nan_and_infinity_never_pass_a_lever_check(tmp_path, lever, value):
    path = scenario(tmp_path, "s.toml", f"[levers]\n{lever} = {value}\n")
    with pytest.raises(InputError, match=f"levers.{lever}"):
        load_scenario(path)


@pytest.mark.parametrize("lever", NUMERIC_LEVERS)
def test_a_lever_outside_its_range_names_the_key_and_the_range(tmp_path, lever):
    above = LEVERS[lever].hi * 2 + 1
    path = scenario(tmp_path, "s.toml", f"[levers]\n{lever} = {above}\n")
    with pytest.raises(InputError, match=f"levers.{lever}.*not allowed; expected a number from"):
        load_scenario(path)


@pytest.mark.parametrize("body, key", [
    ("scale = nan\n", "scale"), ("scale = inf\n", "scale"), ("scale = 1e300\n", "scale"),
    ("format = true\n", "format"), ('end = "２０２５-12"\n', "end"), ("seed = -1\n", "seed"),
    ('[levers.minimum_wage]\nrule = "share_of_average_wage"\nshare = nan\nfirst_adjustment = "2021-08"\n',
     "levers.minimum_wage.share"),
])
def test_non_finite_out_of_range_and_look_alike_values_are_refused(tmp_path, body, key):
    with pytest.raises(InputError, match=f"key '{key}'"):
        load_scenario(scenario(tmp_path, "s.toml", body))


def test_a_parent_value_the_child_overrides_is_still_checked(tmp_path):
    scenario(tmp_path, "parent.toml", 'scale = "lots"\n[levers]\ntraining_volume = nan\n')
    child = scenario(tmp_path, "child.toml", 'extends = "parent.toml"\nscale = 100\n[levers]\ntraining_volume = 1.5\n')
    with pytest.raises(InputError, match="parent.toml, key 'scale'"):
        load_scenario(child)


def test_an_empty_start_is_an_error_not_the_default(tmp_path):
    with pytest.raises(InputError, match="--start"):
        load_scenario(ROOT / "scenarios" / "baseline.toml", start="")


def test_plot_labels_are_plain_text_not_tex():
    from sim import charts

    figure = charts.verdict_matrix(["New urban jobs"], ["$x^{$", "$\\foo{$"],
                                   {("New urban jobs", "$x^{$"): ("met", 1.0), ("New urban jobs", "$\\foo{$"): ("missed", 0.0)})
    assert charts.to_svg(figure)  # drawn; with TeX parsing on, matplotlib raised a ParseSyntaxException


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    from sim.runner import run_scenarios

    out = tmp_path_factory.mktemp("small")
    scenarios = [load_scenario(ROOT / "scenarios" / name, scale=10000, end="2022-12") for name in ("baseline.toml", "plan.toml")]
    return run_scenarios(scenarios, out, replicates=2).folder


def _damaged(small_run, tmp_path, damage) -> Path:
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(small_run, copy)
    damage(copy)
    return copy


def _rewrite(path: Path, change):
    import pyarrow.parquet as pq

    table = change(pq.read_table(path))
    pq.write_table(table, path)


DAMAGES = {
    "missing column": lambda d: _rewrite(d / "indicators.parquet", lambda t: t.drop(["value"])),
    "mistyped column": lambda d: _rewrite(d / "indicators.parquet", lambda t: t.set_column(
        t.column_names.index("replicate"), "replicate", t.column("replicate").cast("string"))),
    "bad period": lambda d: _rewrite(d / "indicators.parquet", lambda t: t.set_column(
        t.column_names.index("period"), "period", __import__("pyarrow").array(["20x5"] * len(t)))),
    "a directory": lambda d: ((d / "indicators.parquet").unlink(), (d / "indicators.parquet").mkdir()),
    "truncated": lambda d: (d / "indicators.parquet").write_bytes((d / "indicators.parquet").read_bytes()[:500]),
}


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("command", [["targets"], ["compare"], ["report"]])
def test_damaged_run_folders_give_one_message_and_exit_2(small_run, tmp_path, damage, command):
    from click.testing import CliRunner

    from sim.cli import main

    folder = _damaged(small_run, tmp_path, DAMAGES[damage])
    result = CliRunner().invoke(main, [*command, str(folder)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "indicators.parquet" in result.output


def test_targets_refuse_a_run_that_stops_before_2025_and_compare_a_year_it_lacks(small_run):
    from click.testing import CliRunner

    from sim.cli import main

    result = CliRunner().invoke(main, ["targets", str(small_run)])
    assert result.exit_code == 2 and "ends in 2022-12" in result.output
    result = CliRunner().invoke(main, ["compare", str(small_run), "--year", "2030"])
    assert result.exit_code == 2 and "year 2030 is not in the run" in result.output


def test_reproduce_says_a_truncated_output_changed_after_the_run(small_run, tmp_path):
    from sim.reproduce import reproduce

    folder = _damaged(small_run, tmp_path, DAMAGES["truncated"])
    report = reproduce(folder, tmp_path / "again")
    assert not report.ok
    assert any("changed after the run" in line for line in report.details)


def test_a_full_disk_is_one_line_and_leaves_no_half_written_folder(tmp_path, monkeypatch):
    import errno

    from sim import runner

    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(runner, "write_atomically", full)
    scenario_ = load_scenario(ROOT / "scenarios" / "baseline.toml", scale=20000, end="2021-01")
    with pytest.raises(InputError, match="No space left on device"):
        runner.run_scenarios([scenario_], tmp_path)
    assert list(tmp_path.iterdir()) == []  # no .incomplete-* folder with a truncated request.json


def test_a_full_disk_mid_run_says_how_to_resume(tmp_path, monkeypatch):
    import errno

    from sim import runner

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(runner, "_write_part", full)
    scenario_ = load_scenario(ROOT / "scenarios" / "baseline.toml", scale=20000, end="2021-01")
    with pytest.raises(runner.Interrupted, match="the disk is full") as stop:
        runner.run_scenarios([scenario_], tmp_path, uncertainty="fixed")
    assert stop.value.staging.name.startswith(".incomplete-") and (stop.value.staging / "request.json").exists()


def test_targets_and_sensitivity_tables_of_another_schema_are_refused(small_run, tmp_path):
    import pandas as pd
    from click.testing import CliRunner

    from sim.cli import main

    folder = _damaged(small_run, tmp_path, lambda d: pd.DataFrame({"x": [1]}).to_parquet(d / "targets.parquet"))
    result = CliRunner().invoke(main, ["report", str(folder)])
    assert result.exit_code == 2 and "not a zjsim targets table" in result.output
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    pd.DataFrame({"y": [1]}).to_parquet(sweep / "sensitivity.parquet")
    result = CliRunner().invoke(main, ["report", str(small_run), "--out", str(tmp_path / "r.html"), "--sweep", str(sweep)])
    assert result.exit_code == 2 and "not a zjsim sensitivity table" in result.output
