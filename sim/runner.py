"""Run a scenario and write its results folder atomically.

`results/<run-id>/` holds `indicators.parquet` (long format: scenario,
replicate, period, indicator, value) and `manifest.json` (everything needed to
reproduce the run).  The folder is written under a hidden temporary name and
renamed when complete, so an interrupted or failed run leaves nothing that
looks finished.
"""

import datetime as dt
import hashlib
import json
import os
import platform
import shutil
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
from .errors import InputError
from .model import LabourModel
from .scenario import Scenario
from .streams import replicate_seeds
from .timeline import format_month

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


@dataclass
class RunResult:
    folder: Path
    table: pa.Table
    seconds: float


def simulate(scenario: Scenario, replicate: int, seed: np.random.SeedSequence, calibration: Calibration,
             progress: Callable[[int], None] | None = None) -> list[tuple]:
    """Rows (scenario, replicate, period, indicator, value) of one replicate: annual then monthly."""
    model = LabourModel(seed=seed, scale=scenario.scale, policy=scenario.policy, calibration=calibration)
    model.run_until(scenario.end, progress)
    annual = [(scenario.name, replicate, f"{year:04d}", key, value) for year, key, value in model.recorder.annual()]
    monthly = [(scenario.name, replicate, format_month(month), key, value) for month, key, value in model.recorder.monthly()]
    return annual + monthly


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


def _run_id(scenario: Scenario, started: dt.datetime, out_dir: Path) -> str:
    base = f"{scenario.name}-{started:%Y%m%dT%H%M%S}-seed{scenario.seed}"
    run_id, n = base, 1
    while (out_dir / run_id).exists():
        n += 1
        run_id = f"{base}-{n}"
    return run_id


def run_scenario(scenario: Scenario, out_dir: str | Path = "results", *, replicates: int = 1,
                 command_line: list[str] | None = None, progress_factory=None) -> RunResult:
    """Simulate `replicates` replicates and write `out_dir/<run-id>/` atomically."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot create the output folder ({err.strerror})", file=str(out_dir)) from None
    if not os.access(out_dir, os.W_OK):
        raise InputError("the output folder is not writable", file=str(out_dir))
    calibration = Calibration.load()
    started = dt.datetime.now(dt.timezone.utc)
    run_id = _run_id(scenario, started, out_dir)
    seeds = replicate_seeds(scenario.seed, replicates)
    months = scenario.end - scenario.start + 1

    staging = out_dir / f".incomplete-{run_id}"
    staging.mkdir()
    try:
        rows = []
        for replicate, seed in enumerate(seeds):
            if progress_factory is None:
                rows += simulate(scenario, replicate, seed, calibration)
            else:
                with progress_factory(months, f"{scenario.name} r{replicate}") as bar:
                    rows += simulate(scenario, replicate, seed, calibration, bar.update)
        table = rows_to_table(rows)
        pq.write_table(table, staging / "indicators.parquet")
        finished = dt.datetime.now(dt.timezone.utc)
        manifest = {
            "run_id": run_id,
            "scenarios": [
                {"name": scenario.name, "file": scenario.path, "sha256": scenario.sha256, "text": scenario.text}
            ],
            "seed": scenario.seed,
            "replicates": [
                {"replicate": r, "entropy": str(s.entropy), "spawn_key": list(s.spawn_key)} for r, s in enumerate(seeds)
            ],
            "scale": scenario.scale,
            "start": format_month(scenario.start),
            "end": format_month(scenario.end),
            "code": {"package": "zjsim", "version": __version__, **_git_commit()},
            "calibration_sha256": calibration.digest,
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "packages": _versions(),
            "command_line": command_line if command_line is not None else sys.argv,
            "started_at": started.isoformat(timespec="seconds"),
            "finished_at": finished.isoformat(timespec="seconds"),
            "outputs": {"indicators.parquet": sha256_file(staging / "indicators.parquet")},
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        folder = out_dir / run_id
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return RunResult(folder=folder, table=table, seconds=(finished - started).total_seconds())
