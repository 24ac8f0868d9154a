"""A reviewer reproduces a run from its folder alone."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, str(ROOT / "cli.py")]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A two-scenario run (the child extends the baseline) copied away from the repository."""
    out = tmp_path_factory.mktemp("runs")
    done = subprocess.run(CLI + ["run", str(ROOT / "scenarios/baseline.toml"), str(ROOT / "scenarios/insurance_drive.toml"),
                                 "--scale", "4000", "--replicates", "2", "--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    elsewhere = tmp_path_factory.mktemp("copied") / "run"
    shutil.copytree(next(out.iterdir()), elsewhere)
    return elsewhere


def reproduce(folder, tmp_path):
    return subprocess.run(CLI + ["reproduce", str(folder), "--out", str(tmp_path / "rerun")], capture_output=True, text=True)


def test_a_copied_run_folder_reproduces_bit_for_bit(finished_run, tmp_path):
    done = reproduce(finished_run, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reproduced: 2 files identical" in done.stdout  # indicators.parquet and targets.parquet
    assert "Traceback" not in done.stderr


def test_a_tampered_value_is_caught(finished_run, tmp_path):
    tampered = tmp_path / "run"
    shutil.copytree(finished_run, tampered)
    table = pq.read_table(tampered / "indicators.parquet")
    values = table.column("value").to_pylist()
    values[7] += 1.0
    pq.write_table(table.set_column(4, "value", pa.array(values, pa.float64())), tampered / "indicators.parquet")
    done = reproduce(tampered, tmp_path)
    assert done.returncode == 1
    assert "indicators.parquet: the file in" in done.stdout and "does not match its manifest checksum" in done.stdout
    assert "1 differing row(s)" in done.stdout


def test_a_different_seed_in_a_hand_edited_manifest_is_caught(finished_run, tmp_path):
    edited = tmp_path / "run"
    shutil.copytree(finished_run, edited)
    manifest = json.loads((edited / "manifest.json").read_text())
    manifest["seed"] += 1
    (edited / "manifest.json").write_text(json.dumps(manifest))
    done = reproduce(edited, tmp_path)
    assert done.returncode == 1
    assert "indicators.parquet: the rerun differs from the manifest's checksum" in done.stdout


def test_not_a_run_folder_is_a_clear_error(tmp_path):
    done = reproduce(tmp_path, tmp_path)
    assert done.returncode == 2 and "manifest.json not found" in done.stderr and "Traceback" not in done.stderr
