"""The command line: a good run, bad input, determinism across processes."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def zjsim(*args, cwd=None):
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def only_run_folder(out: Path) -> Path:
    folders = [p for p in out.iterdir()]
    assert len(folders) == 1, folders
    return folders[0]


def test_run_prints_a_summary_and_writes_the_folder(tmp_path):
    out = tmp_path / "results"
    done = zjsim("run", str(ROOT / "scenarios/baseline.toml"), "--scale", "2000", "--end", "2021-06", "--out", str(out))
    assert done.returncode == 0, done.stderr
    folder = only_run_folder(out)
    assert f"run folder: {folder}" in done.stdout
    assert "surveyed_unemployment_rate" in done.stdout and "2021" in done.stdout
    assert sorted(p.name for p in folder.iterdir()) == ["indicators.parquet", "manifest.json"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["scale"] == 2000 and manifest["end"] == "2021-06"
    digest = hashlib.sha256((folder / "indicators.parquet").read_bytes()).hexdigest()
    assert manifest["outputs"]["indicators.parquet"] == digest


def test_run_leaves_the_other_commands_libraries_unimported(tmp_path):
    """`zjsim run` starts fast: it does not import the report, sweep,
    calibration or Dask libraries, nor pyarrow's dataset layer (sim.parquet)."""
    unwanted = ["pyarrow.dataset", "sim.report", "sim.sweep", "sim.abc", "matplotlib", "SALib", "pyabc", "distributed"]
    code = (
        "import sys\n"
        "from sim.cli import main\n"
        f"try:\n    main(['run', 'scenarios/baseline.toml', '--scale', '10000', '--end', '2021-03', '--out', {str(tmp_path)!r}])\n"
        "except SystemExit as done:\n    assert not done.code, done.code\n"
        f"print(sorted(m for m in {unwanted!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert any(tmp_path.iterdir())  # the run did write its folder


def test_same_seed_same_bytes_in_separate_processes_and_other_seeds_differ(tmp_path):
    def run(seed, name):
        out = tmp_path / name
        done = zjsim("run", str(ROOT / "scenarios/baseline.toml"), "--scale", "4000", "--end", "2022-12", "--seed", str(seed), "--out", str(out))
        assert done.returncode == 0, done.stderr
        return (only_run_folder(out) / "indicators.parquet").read_bytes()

    first, second, other = run(3, "a"), run(3, "b"), run(4, "c")
    assert first == second
    assert first != other


BAD_SCENARIOS = {
    "malformed.toml": ('name = "x"\nseed = [1,\n', "not valid TOML"),
    "unknown_key.toml": ('name = "x"\nsede = 3\n', "key 'sede': unknown key; allowed keys are: format, name, description, extends"),
    "bad_scale.toml": ('name = "x"\nscale = 0\n', "key 'scale': value 0 is not allowed; expected a number from 1 to 1e+06"),
    "bad_end.toml": ('name = "x"\nend = "2040-01"\n', "key 'end': month 2040-01 is outside the allowed range 2021-01 to 2035-12"),
    "bad_rule.toml": ('name = "x"\n[levers.minimum_wage]\nrule = "magic"\n', "key 'levers.minimum_wage.rule': value 'magic' is not allowed"),
    "bad_tiers.toml": ('name = "x"\n[levers.minimum_wage]\nschedule = [{from = "2022-01", tiers = [1500, 1800, 1660, 2010]}]\n',
                       "key 'levers.minimum_wage.schedule[0].tiers'"),
    "no_name.toml": ('seed = 3\n', "key 'name': missing"),
    "bad_reform.toml": ('name = "x"\n[levers]\nretirement_reform = "yes"\n', "key 'levers.retirement_reform': value 'yes' is not allowed; expected true or false"),
    "unknown_lever.toml": ('name = "x"\n[levers]\nminimum_wages = 3\n', "key 'levers.minimum_wages': unknown lever; allowed levers are: minimum_wage, retirement_reform"),
    "lever_range.toml": ('name = "x"\n[levers]\ntraining_volume = -1\n', "key 'levers.training_volume': value -1 is not allowed; expected a number from 0 to 10"),
    "lever_month.toml": ('name = "x"\n[levers]\ntraining_volume = {from = "2030-01", value = 2}\n',
                         "key 'levers.training_volume.from': month 2030-01 is outside the allowed range 2021-01 to 2025-12"),
    "lever_path.toml": ('name = "x"\n[levers]\npostdoc_quota = {path = [["2023-01", 1000], ["2022-01", 1200]]}\n',
                        "key 'levers.postdoc_quota.path': months must be distinct and in increasing order"),
    "lever_shape.toml": ('name = "x"\n[levers]\nmatching_efficiency = {value = 2}\n', "key 'levers.matching_efficiency': expected a value"),
    "bad_format.toml": ('format = 2\nname = "x"\n', "key 'format': value 2 is not allowed; this version reads format 1"),
    "missing_parent.toml": ('name = "x"\nextends = "nowhere.toml"\n', "key 'extends': parent scenario 'nowhere.toml' not found"),
}


@pytest.mark.parametrize("filename", sorted(BAD_SCENARIOS))
def test_bad_scenario_gives_one_message_exit_2_and_no_folder(tmp_path, filename):
    text, expected = BAD_SCENARIOS[filename]
    path = tmp_path / filename
    path.write_text(text)
    out = tmp_path / "results"
    done = zjsim("run", str(path), "--out", str(out))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert str(path) in done.stderr and expected in done.stderr, done.stderr
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize(
    "args, expected",
    [
        (["run", "no/such/file.toml"], "no/such/file.toml: scenario file not found"),
        (["run", "SCENARIO", "--scale", "abc"], "'abc' is not a valid float"),
        (["run", "SCENARIO", "--scale", "0.5"], "key '--scale': value 0.5 is not allowed"),
        (["run", "SCENARIO", "--start", "2022-01"], "key '--start': month 2022-01 is not allowed; a run starts in 2016-01 or 2021-01"),
        (["run", "SCENARIO", "--end", "2025-13"], "key '--end': value '2025-13' is not a month"),
        (["run", "SCENARIO", "--seed", "-1"], "key '--seed': value -1 is not allowed"),
    ],
)
def test_bad_options_give_one_message_exit_2_and_no_folder(tmp_path, args, expected):
    out = tmp_path / "results"
    args = [str(ROOT / "scenarios/baseline.toml") if a == "SCENARIO" else a for a in args]
    done = zjsim(*args, "--out", str(out))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert expected in done.stderr, done.stderr
    assert not out.exists() or not any(out.iterdir())


def test_every_option_of_every_command_has_help_text():
    import click

    from sim.cli import main

    for name, command in main.commands.items():
        for sub, cmd in (command.commands.items() if isinstance(command, click.Group) else [(name, command)]):
            for option in cmd.params:
                if isinstance(option, click.Option):
                    assert option.help, f"{sub} {option.name}"
