"""Reproduce a finished run from its manifest alone, and compare every output.

The manifest holds the text of every scenario file (and the files they
extend), the root seed, the replicates, the scale and the run window, so a
reviewer who has only the run folder can rerun it.  The scenario files are
rewritten into a scratch folder under their recorded paths (so relative
`extends` still resolve), the run is repeated into a fresh folder, and every
output's SHA-256 is compared with the manifest; the run folder's own files are
checked against the manifest too.  For tables that differ, the first differing
rows are reported.
"""

import json
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pandas as pd

from . import __version__
from .errors import InputError
from .runner import _git_commit, run_scenarios, sha256_file
from .scenario import load_scenario

KEYS = ["scenario", "replicate", "period", "indicator"]


@dataclass
class Report:
    identical: list[str] = field(default_factory=list)
    differing: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    folder: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.differing


def read_manifest(path: str | Path) -> tuple[Path, dict]:
    path = Path(path)
    manifest_path = path / "manifest.json" if path.is_dir() else path
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("manifest.json not found", file=str(manifest_path)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"manifest is not valid JSON ({err})", file=str(manifest_path)) from None
    for key in ("scenarios", "seed", "replicates", "scale", "outputs"):
        if key not in manifest:
            raise InputError("manifest entry is missing", file=str(manifest_path), key=key)
    return manifest_path.parent, manifest


def _scratch_path(root: Path, recorded: str) -> Path:
    """Where a recorded scenario path is rewritten inside the scratch folder."""
    return root / Path(recorded.lstrip("/"))


def scenarios_from_records(records: list[dict], scale: float, scratch: Path) -> list:
    """Rebuild scenarios from their recorded file texts (a manifest's or a run request's)."""
    scenarios = []
    for entry in records:
        for file in entry.get("files") or [{"path": entry["file"], "text": entry["text"]}]:
            target = _scratch_path(scratch, file["path"])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(file["text"], encoding="utf-8")
        scenarios.append(load_scenario(_scratch_path(scratch, entry["file"]), scale=scale,
                                       start=entry.get("start"), end=entry.get("end")))
    return scenarios


def reproduce(run: str | Path, out_dir: str | Path = "results") -> Report:
    folder, manifest = read_manifest(run)
    report = Report()
    _compare_versions(manifest, report)
    with tempfile.TemporaryDirectory(prefix="zjsim-reproduce-") as scratch:
        scenarios = scenarios_from_records(manifest["scenarios"], manifest["scale"], Path(scratch))
        uncertainty = manifest.get("uncertainty") or {"mode": "fixed"}
        if not isinstance(uncertainty, dict):
            raise InputError("manifest entry is malformed; expected a table", file=str(folder / "manifest.json"),
                             key="uncertainty")
        _compare_posterior(uncertainty, report)
        result = run_scenarios(scenarios, out_dir, replicates=len(manifest["replicates"]), jobs=1,
                               seed=manifest["seed"], command_line=["zjsim", "reproduce", str(run)],
                               uncertainty=uncertainty)
    report.folder = result.folder
    for name, expected in manifest["outputs"].items():
        new = result.folder / name
        if not new.exists():
            report.differing.append(name)
            report.details.append(f"{name}: not produced by the rerun")
            continue
        if sha256_file(new) == expected:
            report.identical.append(name)
        else:
            report.differing.append(name)
            report.details.append(f"{name}: the rerun differs from the manifest's checksum")
            if (folder / name).exists() and name.endswith(".parquet"):
                report.details += _first_differences(folder / name, new)
        original = folder / name
        if original.exists() and sha256_file(original) != expected:
            if name not in report.differing:
                report.differing.append(name)
            report.details.append(f"{name}: the file in {folder} does not match its manifest checksum (changed after the run)")
            if name.endswith(".parquet"):
                report.details += _first_differences(original, new)
    return report


def _first_differences(a: Path, b: Path, limit: int = 5) -> list[str]:
    left, right = pd.read_parquet(a), pd.read_parquet(b)
    keys = [k for k in KEYS if k in left.columns and k in right.columns]
    if not keys or "value" not in left.columns:
        return [f"  tables differ in shape: {left.shape} against {right.shape}"]
    merged = left.merge(right, on=keys, how="outer", suffixes=("_recorded", "_rerun"), indicator=True)
    differ = merged[(merged["_merge"] != "both") | (merged["value_recorded"] != merged["value_rerun"])]
    lines = [f"  {len(differ)} differing row(s); first ones:"]
    for row in differ.head(limit).itertuples(index=False):
        record = row._asdict()
        where = ", ".join(f"{k}={record[k]}" for k in keys)
        lines.append(f"    {where}: recorded {record['value_recorded']}, rerun {record['value_rerun']}")
    return lines


def _compare_posterior(uncertainty: dict, report: Report) -> None:
    """The rerun uses the parameter values the manifest recorded; say so when the
    posterior shipped here is not the one the run drew from."""
    if uncertainty.get("mode") != "posterior":
        return
    from .posterior import POSTERIOR

    here = sha256_file(POSTERIOR) if POSTERIOR.exists() else None
    if uncertainty.get("posterior_sha256") != here:
        report.warnings.append("the run drew from another posterior than calibration/posterior.parquet here; "
                               "the rerun uses the parameter values recorded in the manifest")


def _compare_versions(manifest: dict, report: Report) -> None:
    code = manifest.get("code", {})
    if code.get("version") not in (None, __version__):
        report.warnings.append(f"code version differs: run {code.get('version')}, here {__version__}")
    here = _git_commit().get("git_commit")
    if code.get("git_commit") and here and code["git_commit"] != here:
        report.warnings.append(f"git commit differs: run {code['git_commit'][:12]}, here {here[:12]}")
    for name, version in (manifest.get("packages") or {}).items():
        try:
            mine = metadata.version(name)
        except metadata.PackageNotFoundError:
            mine = None
        if version != mine:
            report.warnings.append(f"{name} version differs: run {version}, here {mine}")
