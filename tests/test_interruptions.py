"""A run that stops (Ctrl-C, a dead worker) says how to finish it, and --resume does."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, str(ROOT / "cli.py")]
RUN = ["run", str(ROOT / "scenarios" / "baseline.toml"), "--scale", "5000", "--end", "2022-12", "--uncertainty", "fixed"]


def _wait_for_parts(out: Path, count: int, process: subprocess.Popen, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and process.poll() is None:
        if len(list(out.glob(".incomplete-*/parts/*.parquet"))) >= count:
            return
        time.sleep(0.2)
    raise AssertionError("the run made no progress")


def _children(pid: int) -> list[int]:
    return [int(c) for c in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()]


def _pool_workers(pid: int) -> list[int]:
    """The pool's workers: children of the forkserver, itself a child of the run
    (the run's other child, the resource tracker, is left alone)."""
    return [worker for child in _children(pid) for worker in _children(child)]


def _resume_command(stderr: str) -> list[str]:
    line = next(line for line in stderr.splitlines() if line.strip().startswith("zjsim run --resume"))
    return line.split()[1:]


def test_ctrl_c_prints_the_command_that_finishes_the_run(tmp_path):
    # Enough replicates that the run cannot finish between its first part and the signal.
    # A shell's background jobs inherit SIGINT ignored, and Python then never raises
    # KeyboardInterrupt: give the run the default disposition, as a terminal would.
    process = subprocess.Popen(CLI + RUN + ["--replicates", "30", "--out", str(tmp_path)], stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    _wait_for_parts(tmp_path, 1, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "Traceback" not in stderr and "Aborted!" not in stderr
    assert "stopped by Ctrl-C" in stderr
    staging = Path(_resume_command(stderr)[-1])  # resuming it is tested with the killed worker below
    assert staging.name.startswith(".incomplete-") and (staging / "request.json").exists()
    assert list(staging.glob("parts/*.parquet")) and not [p for p in tmp_path.iterdir() if not p.name.startswith(".")]


def test_a_killed_worker_ends_the_run_with_a_resume_command(tmp_path):
    process = subprocess.Popen(CLI + RUN + ["--replicates", "16", "--jobs", "2", "--out", str(tmp_path)],
                               stderr=subprocess.PIPE, text=True)
    _wait_for_parts(tmp_path, 1, process)
    for pid in _pool_workers(process.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr and "worker process died" in stderr
    finished = subprocess.run(CLI + _resume_command(stderr), capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr


def test_a_ctrl_c_inside_a_compiled_kernel_is_a_ctrl_c(tmp_path):
    """A Ctrl-C that lands while a numba kernel calls back into Python comes
    out of the call as a SystemError caused by the KeyboardInterrupt (seen
    once in a few runs of the test above: exit 1 and a traceback); the run
    still stops as a Ctrl-C.  Other errors pass through unchanged."""
    import pytest

    from sim.runner import Interrupted, _guarded

    def interrupted_in_kernel():
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as err:
            raise SystemError("CPUDispatcher(<function _rows_below>) returned a result with an exception set") from err

    with pytest.raises(Interrupted) as stop:
        _guarded(tmp_path, interrupted_in_kernel)
    assert stop.value.keyboard and stop.value.reason == "stopped by Ctrl-C"

    def failing():
        raise SystemError("a real bug")

    with pytest.raises(SystemError, match="a real bug"):
        _guarded(tmp_path, failing)


def _ctrl_c_in_kernel(*args, **kwargs):
    """What a Ctrl-C looks like when it lands inside a compiled kernel."""
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as err:
        raise SystemError("CPUDispatcher(<function _month>) returned a result with an exception set") from err


def test_ctrl_c_ends_any_command_with_one_line_and_status_130(tmp_path, monkeypatch):
    """Commands outside the run guard (sweep, calibrate, fit-wages) stop on a
    Ctrl-C, plain or from inside a kernel, with one line and exit 130: no
    traceback, no click "Aborted!", and no output folder."""
    from click.testing import CliRunner

    import sim.fit
    import sim.sweep
    import sim.wage_fit
    from sim.cli import main

    def plain_ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.sweep, "run_sweep", plain_ctrl_c)
    result = CliRunner().invoke(main, ["sweep", str(ROOT / "scenarios" / "baseline.toml"), "--vary",
                                       "training_volume=0.9:1.1", "--out", str(tmp_path)])
    assert result.exit_code == 130, result.output
    assert result.stderr.strip() == "zjsim sweep stopped by Ctrl-C."
    assert "Aborted" not in result.output and list(tmp_path.iterdir()) == []

    monkeypatch.setattr(sim.fit, "calibrate", _ctrl_c_in_kernel)
    result = CliRunner().invoke(main, ["calibrate", "--out", str(tmp_path / "posterior.parquet")])
    assert result.exit_code == 130, result.output
    assert result.stderr.startswith("zjsim calibrate stopped by Ctrl-C; the generations finished are kept")
    assert list(tmp_path.iterdir()) == []

    monkeypatch.setattr(sim.wage_fit, "fit", _ctrl_c_in_kernel)
    result = CliRunner().invoke(main, ["fit-wages"])
    assert result.exit_code == 130 and result.stderr.strip() == "zjsim fit-wages stopped by Ctrl-C."


def test_other_errors_pass_the_ctrl_c_handler_unchanged(monkeypatch):
    from click.testing import CliRunner

    import sim.wage_fit
    from sim.cli import main

    def bug(*args, **kwargs):
        raise SystemError("a real bug")

    monkeypatch.setattr(sim.wage_fit, "fit", bug)
    result = CliRunner().invoke(main, ["fit-wages"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemError)
    assert "Ctrl-C" not in result.stderr


def test_a_backtest_whose_run_stops_prints_the_command_that_finishes_it(tmp_path, monkeypatch):
    """backtest runs scenarios/realised.toml through the run guard; a stop
    there (before: a traceback of the uncaught Interrupted) is reported as
    `run` reports it."""
    from click.testing import CliRunner

    import sim.runner
    from sim.cli import main
    from sim.errors import Interrupted

    staging = tmp_path / ".incomplete-realised"

    def stopped(*args, **kwargs):
        raise Interrupted(staging, "stopped by Ctrl-C", keyboard=True)

    monkeypatch.setattr(sim.runner, "run_scenarios", stopped)
    result = CliRunner().invoke(main, ["backtest", "--out", str(tmp_path)])
    assert result.exit_code == 130, result.output
    assert "run stopped: stopped by Ctrl-C" in result.stderr
    assert f"zjsim run --resume {staging}" in result.stderr
