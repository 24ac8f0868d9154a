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
import posixpath
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath

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
    check_manifest(manifest, str(manifest_path))
    return manifest_path.parent, manifest


OUTPUTS = ("indicators.parquet", "targets.parquet")  # the files a run writes and a manifest may list
MANIFEST_TYPES = {  # key -> (check, what is allowed)
    "scenarios": (lambda v: isinstance(v, list) and v and all(isinstance(e, dict) for e in v), "a non-empty list of scenario records"),
    "seed": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "a whole number >= 0"),
    "replicates": (lambda v: isinstance(v, list) and 1 <= len(v) <= 10000, "a list of 1 to 10000 replicate records"),
    "scale": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 1 <= v <= 1e6, "a number from 1 to 1e6"),
    "outputs": (lambda v: isinstance(v, dict) and v and set(v) <= set(OUTPUTS)
                and all(isinstance(h, str) and len(h) == 64 for h in v.values()),
                f"a table of {' and/or '.join(OUTPUTS)} to their SHA-256"),
}


OPTIONAL_TYPES = {"code": dict, "packages": dict, "uncertainty": dict, "run_id": str, "started_at": str,
                  "finished_at": str, "start": str, "end": str, "calibration_sha256": str, "python": str,
                  "platform": str, "command_line": list, "executor": str, "jobs": int}


def check_manifest(manifest, file: str) -> None:
    """A manifest from elsewhere is untrusted: every entry a rerun uses is checked at the door."""
    if not isinstance(manifest, dict):
        raise InputError("manifest is not a JSON object", file=file)
    for key, (valid, allowed) in MANIFEST_TYPES.items():
        if key not in manifest:
            raise InputError("manifest entry is missing", file=file, key=key)
        if not valid(manifest[key]):
            raise InputError(f"manifest entry is malformed; expected {allowed}", file=file, key=key)
    for i, record in enumerate(manifest["scenarios"]):
        if not (isinstance(record.get("name"), str) and isinstance(record.get("file"), str)
                and (isinstance(record.get("text"), str) or isinstance(record.get("files"), list))):
            raise InputError("a scenario record needs its name, file and text", file=file, key=f"scenarios[{i}]")
    for key, kind in OPTIONAL_TYPES.items():
        if key in manifest and not isinstance(manifest[key], kind):
            raise InputError(f"manifest entry is malformed; expected {kind.__name__ if isinstance(kind, type) else 'text'}",
                             file=file, key=key)


def _scratch_layout(recorded: list[str]) -> int:
    """How deep to nest the scratch copy so that every recorded path, with its
    leading '..' steps, still lands inside the scratch folder."""
    depth = 0
    for path in recorded:
        parts = PurePosixPath(posixpath.normpath(path.lstrip("/") or ".")).parts
        depth = max(depth, next((i for i, part in enumerate(parts) if part != ".."), len(parts)))
    return depth


def _scratch_path(root: Path, recorded, depth: int = 0) -> Path:
    """Where a recorded scenario path is rewritten inside the scratch folder
    `root`; a path that would leave it (a tampered manifest) is an InputError."""
    if not isinstance(recorded, str) or not recorded or "\0" in recorded or len(recorded) > 1024:
        raise InputError(f"recorded scenario path {str(recorded)[:80]!r} is not a path", key="scenarios")
    base = root.joinpath(*(["d"] * depth))
    target = Path(posixpath.normpath(str(base / recorded.lstrip("/"))))
    if not target.is_relative_to(root) or target == root:
        raise InputError(f"recorded scenario path {recorded[:80]!r} leads outside the run's own folder", key="scenarios")
    return target


def scenarios_from_records(records, scale, scratch: Path) -> list:
    """Rebuild scenarios from their recorded file texts (a manifest's or a run request's), checked:
    every file is written inside `scratch`, whatever the record says."""
    if not isinstance(records, list) or not records:
        raise InputError("expected a non-empty list of scenario records", key="scenarios")
    scratch = scratch.resolve()
    entries = []
    for entry in records:
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            raise InputError("a scenario record needs its file path and text", key="scenarios")
        files = entry.get("files") or [{"path": entry["file"], "text": entry.get("text")}]
        if not isinstance(files, list) or not all(isinstance(f, dict) and isinstance(f.get("path"), str)
                                                  and isinstance(f.get("text"), str) for f in files):
            raise InputError("a scenario record's files need a path and a text each", key="scenarios")
        entries.append((entry, files))
    depth = _scratch_layout([f["path"] for _, files in entries for f in files] + [e["file"] for e, _ in entries])
    scenarios = []
    for entry, files in entries:
        for file in files:
            target = _scratch_path(scratch, file["path"], depth)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(file["text"], encoding="utf-8")
            except (OSError, UnicodeEncodeError) as err:
                raise InputError(f"recorded scenario path {file['path'][:80]!r} cannot be rebuilt "
                                 f"({err.__class__.__name__})", key="scenarios") from None
        scenarios.append(load_scenario(_scratch_path(scratch, entry["file"], depth), scale=scale,
                                       start=entry.get("start"), end=entry.get("end"), search=(scratch,)))
    return scenarios


def reproduce(run: str | Path, out_dir: str | Path = "results", *, jobs: int = 1, progress=None) -> Report:
    """Rerun a run folder from its manifest into `out_dir` (on `jobs` processes; the
    bytes do not depend on them) and compare every output with the manifest."""
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
        result = run_scenarios(scenarios, out_dir, replicates=len(manifest["replicates"]), jobs=jobs,
                               seed=manifest["seed"], command_line=["zjsim", "reproduce", str(run)],
                               uncertainty=uncertainty, progress=progress)
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
    try:
        left, right = pd.read_parquet(a), pd.read_parquet(b)
    except Exception as err:  # a truncated or foreign file: say so, the checksum already told the difference
        return [f"  {a} cannot be read as a table ({err.__class__.__name__}): damaged or replaced"]
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
