"""Run a scenario and write its results folder atomically.

`results/<run-id>/` holds `indicators.parquet` (long format: scenario,
replicate, period, indicator, value) and `manifest.json` (everything needed to
reproduce the run).  The folder is written under a hidden temporary name and
renamed when complete, so an interrupted or failed run leaves nothing that
looks finished.
"""

import datetime as dt
import errno
import functools
import hashlib
import json
import os
import platform
import re
import shutil
import tempfile
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import __version__
from .calibration import Calibration
from .errors import InputError, Interrupted, caused_by_ctrl_c, writable_folder
from .executors import LocalExecutor
from .parquet import read_parquet
from .scenario import Scenario
from .streams import replicate_seeds
from .timeline import format_month, parse_month

SCHEMA = pa.schema(
    [
        ("scenario", pa.string()),
        ("replicate", pa.int64()),
        ("period", pa.string()),
        ("indicator", pa.string()),
        ("value", pa.float64()),
    ]
)
KEY_PACKAGES = ("mesa", "numpy", "scipy", "pandas", "pyarrow", "click", "networkx")
REPO_ROOT = Path(__file__).resolve().parent.parent
PARTS = "parts"  # finished tasks of a run in progress, one Parquet file each


@dataclass
class RunResult:
    folder: Path
    table: pa.Table
    seconds: float


def simulate(scenario: Scenario, replicate: int, seed: np.random.SeedSequence, calibration: Calibration | None = None,
             progress: Callable[[int], None] | None = None, parameters: dict[str, float] | None = None,
             population: tuple | None = None) -> list[tuple]:
    """Rows (scenario, replicate, period, indicator, value) of one replicate: annual then monthly.
    `parameters` replaces behavioural parameters of the calibration (a posterior draw);
    `population` is this replicate's built population (`LabourModel.build`), used as it is."""
    calibration = (calibration or _calibration(scenario.baseline_year)).with_parameters(parameters)
    from .model import LabourModel  # Mesa and the kernels load only when a model is built

    model = LabourModel(seed=seed, scale=scenario.scale, policy=scenario.levers, calibration=calibration,
                        population=population)
    model.run_until(scenario.end, progress)
    annual = [(scenario.name, replicate, f"{year:04d}", key, value) for year, key, value in model.recorder.annual()]
    monthly = [(scenario.name, replicate, format_month(month), key, value) for month, key, value in model.recorder.monthly()]
    return annual + monthly


@functools.cache
def _calibration(baseline_year: int = 2020) -> Calibration:
    """The calibration from a baseline year, read once per process (worker processes read their own)."""
    return Calibration.load(baseline_year=baseline_year)


SHARED_BUILD_BYTES = 1 << 30  # scenarios of a replicate share its build while its state is below 1 GB


def simulate_replicate(scenarios: list[Scenario], replicate: int, seed: np.random.SeedSequence,
                       calibration: Calibration | None = None, progress: Callable[[int], None] | None = None,
                       parameters: dict[str, float] | None = None) -> list[list[tuple]]:
    """`simulate` for each of `scenarios` (one start, one scale) in replicate
    `replicate`, building the population once: it depends on the seed, the
    scale and the parameters, never on a lever, so each scenario starts from
    a copy of the same build, byte for byte the population it would build.
    (The build is about a fifth of a run at scale 100.)  When the state is
    large (the whole province: 3 GB) a copy would raise the peak memory, so
    each scenario builds its own."""
    if len(scenarios) == 1:
        return [simulate(scenarios[0], replicate, seed, calibration, progress, parameters)]
    import copy

    from .model import LabourModel

    calibration = (calibration or _calibration(scenarios[0].baseline_year)).with_parameters(parameters)
    built = LabourModel.build(seed, scenarios[0].scale, calibration)
    if built[0].nbytes() + built[1].nbytes() > SHARED_BUILD_BYTES:
        first = simulate(scenarios[0], replicate, seed, calibration, progress, population=built)
        del built
        return [first] + [simulate(s, replicate, seed, calibration, progress) for s in scenarios[1:]]
    rows = [simulate(s, replicate, seed, calibration, progress, population=copy.deepcopy(built)) for s in scenarios[:-1]]
    return rows + [simulate(scenarios[-1], replicate, seed, calibration, progress, population=built)]


def _task(scenarios: list[Scenario], replicate: int, seed: np.random.SeedSequence,
          parameters: dict[str, float] | None = None) -> list[list[tuple]]:
    return simulate_replicate(scenarios, replicate, seed, parameters=parameters)


def rows_to_table(rows: list[tuple]) -> pa.Table:
    columns = list(zip(*rows)) if rows else [[] for _ in SCHEMA]
    return pa.Table.from_arrays([pa.array(col, type=field.type) for col, field in zip(columns, SCHEMA)], schema=SCHEMA)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _git_commit() -> dict:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "sim", "calibration"], cwd=REPO_ROOT,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": None, "git_dirty": None}
    if commit.returncode != 0:
        return {"git_commit": None, "git_dirty": None}
    return {"git_commit": commit.stdout.strip(), "git_dirty": bool(dirty.stdout.strip())}


def _versions() -> dict:
    versions = {}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


RUN_ID = re.compile(r"^[\w.-]{1,200}$")  # what a run folder's name may hold


def folder_name(name: str) -> str:
    """A scenario name made safe for a folder name: word characters, dots and
    hyphens (others become _), no leading dot, at most 60 characters."""
    safe = re.sub(r"[^\w.-]", "_", name)[:60].lstrip(".")
    return safe or "scenario"


def check_run_id(run_id, file: str) -> str:
    """A run id read from a run folder (untrusted): a plain folder name, never a path."""
    if not isinstance(run_id, str) or not RUN_ID.match(run_id) or run_id in (".", ".."):
        raise InputError(f"run_id {str(run_id)[:80]!r} is not a plain folder name", file=file, key="run_id")
    return run_id


def _run_id(scenario: Scenario | None, seed: int, started: dt.datetime, out_dir: Path) -> str:
    base = f"{folder_name(scenario.name) if scenario else 'ensemble'}-{started:%Y%m%dT%H%M%S}-seed{seed}"
    run_id, n = base, 1
    while (out_dir / run_id).exists():
        n += 1
        run_id = f"{base}-{n}"
    return run_id


def run_scenarios(scenarios: list[Scenario], out_dir: str | Path = "results", *, replicates: int = 1, jobs: int = 1,
                  seed: int | None = None, command_line: list[str] | None = None, progress=None,
                  executor=None, uncertainty: str | dict = "fixed", posterior: str | Path | None = None) -> RunResult:
    """Simulate every scenario `replicates` times into one run folder, written atomically.

    All scenarios share the run's root seed (`seed`, else the first scenario's),
    so replicate r of every scenario uses the same child seed: paired
    differences between scenarios isolate their levers.  Tasks run in a
    process pool of `jobs` workers; rows are assembled in (scenario,
    replicate) order, so the bytes do not depend on `jobs` or the executor
    (`sim.executors`: local processes by default, or Dask).
    """
    executor = executor or LocalExecutor(jobs)
    if not scenarios:
        raise InputError("no scenario given")
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise InputError(f"scenario names must differ within a run; got {', '.join(names)}")
    scales = {s.scale for s in scenarios}
    if len(scales) > 1:
        raise InputError(f"scenarios have different scales ({', '.join(f'{x:g}' for x in sorted(scales))}); give --scale")
    starts = {s.start for s in scenarios}
    if len(starts) > 1:
        raise InputError(f"scenarios start in different months ({', '.join(sorted(map(format_month, starts)))}); "
                         "a run compares scenarios from one baseline")
    if replicates < 1 or jobs < 1:
        raise InputError("--replicates and --jobs must be at least 1")
    root_seed = scenarios[0].seed if seed is None else seed
    from .posterior import replicate_parameters, uncertainty_record

    if isinstance(uncertainty, dict):
        replicate_parameters(uncertainty, replicates)  # checked before anything is written
        parameters = uncertainty
    else:
        parameters = uncertainty_record(uncertainty, replicates, root_seed, posterior)
    if all(s.end >= parse_month("2025-12") for s in scenarios):
        from .targets import sustainability_rules

        sustainability_rules()  # the verdicts at the end read them: a bad rules file stops the run before it starts
    out_dir = writable_folder(out_dir)
    started = dt.datetime.now(dt.timezone.utc)
    run_id = _run_id(scenarios[0] if len(scenarios) == 1 else None, root_seed, started, out_dir)
    staging = out_dir / f".incomplete-{run_id}"
    (staging / PARTS).mkdir(parents=True)
    request = {
        "run_id": run_id,
        "scenarios": [_scenario_record(s) for s in scenarios],
        "seed": root_seed,
        "replicates": replicates,
        "scale": scenarios[0].scale,
        "uncertainty": parameters,
        "started_at": started.isoformat(timespec="seconds"),
        "command_line": command_line if command_line is not None else sys.argv,
    }
    try:
        write_atomically(staging / "request.json", json.dumps(request, indent=2, ensure_ascii=False) + "\n")
    except OSError as err:
        shutil.rmtree(staging, ignore_errors=True)  # nothing to resume: leave nothing behind
        raise InputError(f"cannot write the run folder ({err.strerror or err})", file=str(out_dir)) from None
    return _guarded(staging, lambda: _execute(staging, scenarios, request, executor, jobs, progress))


def resume(staging: str | Path, *, jobs: int = 1, executor=None, progress=None) -> RunResult:
    """Finish an interrupted run: simulate only the tasks without a part, then assemble."""
    staging = Path(staging)
    file = str(staging / "request.json")
    if not staging.name.startswith(".incomplete-"):
        raise InputError("not an interrupted run folder (its name starts with .incomplete-)", file=str(staging))
    try:
        request = json.loads((staging / "request.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        raise InputError("not an interrupted run folder: request.json is missing", file=str(staging)) from None
    except (OSError, ValueError) as err:  # unreadable, not UTF-8, not JSON
        raise InputError(f"request.json is damaged ({err.__class__.__name__})", file=file) from None
    from .reproduce import scenarios_from_records

    _check_request(request, file)
    with tempfile.TemporaryDirectory(prefix="zjsim-resume-") as scratch:
        scenarios = scenarios_from_records(request["scenarios"], request["scale"], Path(scratch))
    return _guarded(staging, lambda: _execute(staging, scenarios, request, executor or LocalExecutor(jobs), jobs, progress))


def _check_request(request, file: str) -> None:
    """A staging folder's request.json is untrusted: its entries checked at the door."""
    if not isinstance(request, dict):
        raise InputError("request.json is not a JSON object", file=file)
    check_run_id(request.get("run_id"), file)
    checks = {
        "scenarios": (lambda v: isinstance(v, list) and v, "a non-empty list of scenario records"),
        "seed": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "a whole number >= 0"),
        "replicates": (lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 10000, "1 to 10000"),
        "scale": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 1 <= v <= 1e6, "1 to 1e6"),
        "started_at": (lambda v: isinstance(v, str) and _iso_time(v), "an ISO date and time"),
        "command_line": (lambda v: isinstance(v, list) and all(isinstance(a, str) for a in v), "a list of strings"),
        "uncertainty": (lambda v: isinstance(v, dict), "a table"),
    }
    for key, (valid, allowed) in checks.items():
        if key == "uncertainty" and key not in request:
            continue  # runs started before parameters were drawn from a posterior
        if key not in request or not valid(request[key]):
            raise InputError(f"request entry is missing or malformed; expected {allowed}", file=file, key=key)


def _iso_time(text: str) -> bool:
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _guarded(staging: Path, work: Callable[[], "RunResult"]) -> "RunResult":
    """Run `work`; a Ctrl-C, a dead worker or a full disk becomes `Interrupted`."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        return work()
    except (KeyboardInterrupt, Exception) as err:
        if caused_by_ctrl_c(err):  # the KeyboardInterrupt itself, or an error it caused inside a kernel
            raise Interrupted(staging, "stopped by Ctrl-C", keyboard=True) from None
        if isinstance(err, BrokenProcessPool):
            raise Interrupted(staging, "a worker process died (killed, or out of memory)") from None
        if isinstance(err, OSError) and err.errno == errno.ENOSPC:
            raise Interrupted(staging, "the disk is full") from None
        raise


def write_atomically(path: Path, text: str) -> None:
    """A text file written whole or not at all (a temporary file, then a rename)."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _scenario_record(s: Scenario) -> dict:
    return {"name": s.name, "file": s.path, "sha256": s.sha256, "text": s.text,
            "files": [{"path": path, "text": text} for path, text in s.files],
            "seed": s.seed, "start": format_month(s.start), "end": format_month(s.end)}


def _part(staging: Path, key: tuple[int, int]) -> Path:
    return staging / PARTS / f"{key[0]:03d}-{key[1]:05d}.parquet"


def _write_part(staging: Path, key: tuple[int, int], rows: list[tuple]) -> None:
    """One finished task's rows, written whole or not at all."""
    target = _part(staging, key)
    temporary = target.with_suffix(".tmp")
    pq.write_table(rows_to_table(rows), temporary)
    temporary.rename(target)


def _execute(staging: Path, scenarios: list[Scenario], request: dict, executor, jobs: int, progress) -> RunResult:
    """Run the tasks that have no part yet, streaming each to disk, then assemble the run folder."""
    from .posterior import replicate_parameters

    calibration = _calibration(scenarios[0].baseline_year)
    seeds = replicate_seeds(request["seed"], request["replicates"])
    uncertainty = request.get("uncertainty", {"mode": "fixed"})
    parameters = replicate_parameters(uncertainty, request["replicates"])
    tasks = [(i, r) for i in range(len(scenarios)) for r in range(request["replicates"])]
    todo = [key for key in tasks if not _part(staging, key).exists()]
    done_before = len(tasks) - len(todo)
    groups: dict[int, list[int]] = {}  # replicate -> its scenarios still to run
    for i, r in sorted(todo, key=lambda key: (key[1], key[0])):
        groups.setdefault(r, []).append(i)
    if isinstance(executor, LocalExecutor) and executor.jobs == 1:
        # In this process: progress month by month.
        months = sum(scenarios[i].end - scenarios[i].start + 1 for i, _ in todo)
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            if progress:
                progress(done, months, "months")

        for r, members in groups.items():
            results = simulate_replicate([scenarios[i] for i in members], r, seeds[r], calibration, step, parameters[r])
            for i, rows in zip(members, results):
                _write_part(staging, (i, r), rows)
    else:
        # One task per replicate: its scenarios share the build (simulate_replicate).
        work = {r: ([scenarios[i] for i in members], r, seeds[r], parameters[r]) for r, members in groups.items()}
        count = done_before
        for r, results in executor.map(_task, work):
            for i, rows in zip(groups[r], results):
                _write_part(staging, (i, r), rows)
            count += len(results)
            if progress:
                progress(count, len(tasks), "runs")

    table = pa.concat_tables([read_parquet(_part(staging, key)) for key in tasks]).combine_chunks()
    pq.write_table(table, staging / "indicators.parquet")
    outputs = ["indicators.parquet"]
    if all(s.end >= parse_month("2025-12") for s in scenarios):
        from .targets import target_table

        targets = target_table(table.to_pandas(), uncertainty.get("draws"))
        pq.write_table(pa.Table.from_pandas(targets, preserve_index=False), staging / "targets.parquet")
        outputs.append("targets.parquet")
    started = dt.datetime.fromisoformat(request["started_at"])
    finished = dt.datetime.now(dt.timezone.utc)
    manifest = {
        "run_id": request["run_id"],
        "scenarios": request["scenarios"],
        "seed": request["seed"],
        "replicates": [
            {"replicate": r, "entropy": str(s.entropy), "spawn_key": list(s.spawn_key)} for r, s in enumerate(seeds)
        ],
        "scale": request["scale"],
        "uncertainty": uncertainty,
        "jobs": jobs,
        "executor": executor.name,
        "start": format_month(min(s.start for s in scenarios)),
        "end": format_month(max(s.end for s in scenarios)),
        "code": {"package": "zjsim", "version": __version__, **_git_commit()},
        "calibration_sha256": calibration.digest,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": _versions(),
        "command_line": request["command_line"],
        "started_at": request["started_at"],
        "finished_at": finished.isoformat(timespec="seconds"),
        "outputs": {name: sha256_file(staging / name) for name in outputs},
    }
    write_atomically(staging / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    shutil.rmtree(staging / PARTS)
    (staging / "request.json").unlink()
    folder = staging.parent / request["run_id"]
    staging.rename(folder)
    return RunResult(folder=folder, table=table, seconds=(finished - started).total_seconds())


def run_scenario(scenario: Scenario, out_dir: str | Path = "results", **options) -> RunResult:
    """One scenario (see `run_scenarios`)."""
    return run_scenarios([scenario], out_dir, **options)
