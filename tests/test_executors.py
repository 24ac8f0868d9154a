"""Executors: the same bytes from a local process pool and from a real Dask cluster."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, str(ROOT / "cli.py")]
RUN = ["run", str(ROOT / "scenarios/baseline.toml"), str(ROOT / "scenarios/insurance_drive.toml"),
       "--scale", "4000", "--replicates", "2", "--end", "2022-12"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def dask_cluster():
    """A real `dask scheduler` and two `dask worker` processes on 127.0.0.1, torn down afterwards."""
    distributed = pytest.importorskip("distributed")
    dask = str(Path(sys.executable).parent / "dask")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    processes = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        for _ in range(2):
            processes.append(subprocess.Popen(
                [dask, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 60
        while True:
            try:
                with distributed.Client(address, timeout="5s") as client:
                    client.wait_for_workers(2, timeout=30)
                break
            except (OSError, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield address
    finally:
        for process in processes[::-1]:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def only_folder(out: Path) -> Path:
    (folder,) = list(out.iterdir())
    return folder


def test_dask_cluster_gives_the_bytes_of_the_local_executor(dask_cluster, tmp_path):
    local = subprocess.run(CLI + RUN + ["--jobs", "2", "--out", str(tmp_path / "local")], capture_output=True, text=True)
    assert local.returncode == 0, local.stderr
    remote = subprocess.run(CLI + RUN + ["--executor", "dask", "--scheduler", dask_cluster, "--out", str(tmp_path / "dask")],
                            capture_output=True, text=True)
    assert remote.returncode == 0, remote.stderr
    a = only_folder(tmp_path / "local") / "indicators.parquet"
    b = only_folder(tmp_path / "dask") / "indicators.parquet"
    assert a.read_bytes() == b.read_bytes()


def test_scheduler_option_needs_the_dask_executor(tmp_path):
    done = subprocess.run(CLI + RUN + ["--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 2 and "--scheduler is only for --executor dask" in done.stderr


def test_an_interrupted_ensemble_resumes_to_the_same_bytes(tmp_path):
    """Kill a local ensemble after some runs finished, resume it, and get the bytes of an uninterrupted run."""
    args = ["run", str(ROOT / "scenarios/baseline.toml"), "--scale", "2000", "--replicates", "6", "--end", "2023-12"]
    whole = subprocess.run(CLI + args + ["--out", str(tmp_path / "whole")], capture_output=True, text=True)
    assert whole.returncode == 0, whole.stderr
    out = tmp_path / "cut"
    process = subprocess.Popen(CLI + args + ["--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        parts = list(out.glob(".incomplete-*/parts/*.parquet"))
        if len(parts) >= 2:
            break
        time.sleep(0.05)
    process.kill()
    process.wait()
    (staging,) = list(out.glob(".incomplete-*"))
    finished_before = len(list((staging / "parts").glob("*.parquet")))
    assert 2 <= finished_before < 6
    resumed = subprocess.run(CLI + ["run", "--resume", str(staging)], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    (folder,) = [p for p in out.iterdir() if not p.name.startswith(".")]
    assert not staging.exists() and not (folder / "parts").exists()
    a = only_folder(tmp_path / "whole") / "indicators.parquet"
    assert (folder / "indicators.parquet").read_bytes() == a.read_bytes()


def test_a_worker_that_dies_is_replaced_and_the_run_completes(dask_cluster, tmp_path):
    """Kill one of the two workers while tasks run: Dask reschedules its tasks and the bytes are unchanged."""
    import distributed

    args = RUN[:-2] + ["--end", "2024-12", "--replicates", "4"]
    local = subprocess.run(CLI + args + ["--out", str(tmp_path / "local")], capture_output=True, text=True)
    assert local.returncode == 0, local.stderr
    remote = subprocess.Popen(CLI + args + ["--executor", "dask", "--scheduler", dask_cluster, "--out", str(tmp_path / "dask")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with distributed.Client(dask_cluster, timeout="10s") as client:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(client.processing().values()):
            time.sleep(0.05)
        busy = [worker for worker, tasks in client.processing().items() if tasks]
        assert busy, "no task started"
        try:
            client.run(lambda: __import__("os")._exit(1), workers=busy[:1])  # the worker process dies mid-task
        except (distributed.comm.CommClosedError, OSError):
            pass  # expected: the worker is gone before it can answer
    out, err = remote.communicate(timeout=300)
    assert remote.returncode == 0, err
    a = only_folder(tmp_path / "local") / "indicators.parquet"
    b = only_folder(tmp_path / "dask") / "indicators.parquet"
    assert a.read_bytes() == b.read_bytes()


WORKER_COMPILES = '''
import numba
import numpy as np

from sim.executors import LocalExecutor


def work(x):
    @numba.njit(parallel=True)
    def total(a):
        s = 0.0
        for i in numba.prange(len(a)):
            s += a[i]
        return s
    return total(np.arange(x, dtype=np.float64))


if __name__ == "__main__":
    print(sorted(LocalExecutor(2).map(work, {i: (10 + i,) for i in range(4)})))
'''


def test_pool_workers_can_compile_kernels_after_going_single_threaded(tmp_path):
    """On a fresh install the pool's workers compile the kernels themselves.
    The forkserver preloads the main module, which has imported numba; a
    worker limited to one thread must still compile (it failed with 'Cannot
    set NUMBA_NUM_THREADS ...' when the limit was set through the variable)."""
    script = tmp_path / "script.py"
    script.write_text(WORKER_COMPILES)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[(0, 45.0), (1, 55.0), (2, 66.0), (3, 78.0)]"


@pytest.mark.parametrize("given, expected", [
    ({}, ("PASSIVE", "None")),
    ({"OMP_WAIT_POLICY": "ACTIVE"}, ("ACTIVE", "None")),
    ({"GOMP_SPINCOUNT": "30000"}, ("PASSIVE", "30000")),
])
def test_kernel_threads_sleep_between_passes_unless_the_user_says_otherwise(given, expected):
    """Importing sim sets OMP_WAIT_POLICY=PASSIVE before numba starts its
    OpenMP threads (two runs at once took 1.8x as long with spinning
    threads); a wait policy already in the environment is kept, and so is a
    spin count the user gives for a lone run (libgomp lets it override the
    policy)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(given)
    code = "import os, sim; print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert tuple(out.stdout.split()) == expected


def test_the_local_dask_cluster_runs_tasks_without_the_stack_sampler_and_with_slow_monitors():
    """`--executor dask` without a scheduler starts a LocalCluster whose
    workers do not sample their tasks' stacks (a few percent of an ensemble's
    time, for a dashboard it does not serve) and check their event loops,
    the system and their memory every second or five, not every 20, 500 and
    100 ms (6% of an ensemble's CPU time); it runs the tasks on it."""
    import dask

    from sim.executors import DaskExecutor

    tasks = {"power": (pow, 2, 10), "sampler": (dask.config.get, "distributed.worker.profile.enabled"),
             "monitors": (_worker_monitor_intervals,)}
    results = dict(DaskExecutor(None, 1).map(_call, tasks))
    assert results == {"power": 1024, "sampler": False,
                       "monitors": {"tick": 1000, "monitor": 5000, "memory_monitor": 1000}}
    assert dask.config.get("distributed.worker.profile.enabled")  # this process's setting is left alone
    assert dask.config.get("distributed.admin.tick.interval") == "20ms"


def _worker_monitor_intervals() -> dict:
    """Milliseconds between the running worker's event-loop, system and memory checks."""
    from distributed import get_worker

    callbacks = get_worker().periodic_callbacks
    return {name: callbacks[name].callback_time for name in ("tick", "monitor", "memory_monitor")}


def _call(function, *args):
    return function(*args)
