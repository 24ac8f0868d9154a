"""The README's commands are the ones CI runs, and its documented options exist."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def shell_blocks():
    return re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_ci_runs_the_readme_set_up_and_test_commands():
    setup, tests = shell_blocks()[:2]
    ci = (ROOT / ".ci" / "run").read_text()
    assert setup.startswith("python3 -m venv .venv") and "\npython3 -m venv .venv\n" in ci  # a plain python3, as typed
    assert ".venv/bin/pip install -e '.[test,dask,calibrate]'" in setup and "pip install --quiet -e '.[test,dask,calibrate]'" in ci
    assert "zjsim run scenarios/baseline.toml" in setup
    assert tests.strip() in ci


def test_documented_options_are_in_the_help():
    help_text = subprocess.run([sys.executable, str(ROOT / "cli.py"), "run", "--help"], capture_output=True, text=True).stdout
    readme = (ROOT / "README.md").read_text()
    for option in re.findall(r"^\| `(--[a-z]+)", readme, re.M):
        assert option in help_text, option
