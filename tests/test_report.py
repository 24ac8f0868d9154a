"""The planners' HTML report: its numbers are those of targets.parquet and the
comparison, it names every plan indicator and scenario, it loads nothing from
outside, and it stays clear when the run folder is thin or the input is bad."""

import base64
import io
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.executors import LocalExecutor
from sim.runner import run_scenarios
from sim.scenario import load_scenario
from sim.targets import compare_table, format_number, plan_indicators, target_table

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("baseline", "plan", "minimum_wage_40")
PLAN_IDS = [row["id"] for row in plan_indicators()]


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory):
    """Three scenarios x 4 replicates, 2021-2025, scale 4000."""
    out = tmp_path_factory.mktemp("ensemble")
    scenarios = [load_scenario(ROOT / f"scenarios/{name}.toml", scale=4000) for name in SCENARIOS]
    return run_scenarios(scenarios, out, replicates=4, seed=5, command_line=["test"], executor=LocalExecutor(2)).folder


def zjsim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim.cli", *args], capture_output=True, text=True, cwd=ROOT)


class Page(HTMLParser):
    """The parts of the report the tests read: table rows with their data
    attributes, images, figures, links and the content security policy."""

    def __init__(self, text: str):
        super().__init__()
        self.tables: dict[str, list[dict]] = {}
        self.images: list[str] = []
        self.figures: list[str] = []
        self.links: list[str] = []
        self.policy = ""
        self._table = self._row = self._cell = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href"):
            if name in attrs:
                self.links.append(attrs[name])
        if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy":
            self.policy = attrs["content"]
        elif tag == "img":
            self.images.append(attrs["src"])
        elif tag == "figure" and "data-indicator" in attrs:
            self.figures.append(attrs["data-indicator"])
        elif tag == "table":
            self._table = self.tables.setdefault(attrs.get("class", ""), [])
        elif tag == "tr" and self._table is not None and "data-scenario" in attrs:
            self._row = {"attrs": attrs, "cells": {}}
            self._table.append(self._row)
        elif tag == "td" and self._row is not None and "data-field" in attrs:
            self._cell = attrs
            self._cell["text"] = ""
            self._row["cells"][attrs["data-field"]] = self._cell

    def handle_endtag(self, tag):
        if tag == "td":
            self._cell = None
        elif tag == "tr":
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data


@pytest.fixture(scope="module")
def default_report(ensemble):
    """`zjsim report RUN_DIR`: the page written into the run folder (text, parsed)."""
    return report_of(ensemble)


def report_of(folder: Path, *options: str) -> tuple[str, Page]:
    result = zjsim("report", str(folder), *options)
    assert result.returncode == 0, result.stderr
    out = Path(options[options.index("--out") + 1]) if "--out" in options else folder / "report.html"
    text = out.read_text(encoding="utf-8")
    return text, Page(text)


def test_the_page_shows_every_plan_indicator_and_scenario_with_the_numbers_of_targets_parquet(ensemble, default_report):
    text, page = default_report
    every_rule = pd.read_parquet(ensemble / "targets.parquet")
    targets = every_rule[every_rule["rule_set"] == "plan"]
    rows = {(r["attrs"]["data-indicator"], r["attrs"]["data-scenario"]): r["cells"] for r in page.tables["dashboard"]}
    assert set(rows) == {(i, s) for i in PLAN_IDS for s in SCENARIOS}
    for row in targets.itertuples():
        cells = rows[row.indicator, row.scenario]
        assert float(cells["median"]["data-value"]) == row.median
        assert cells["median"]["text"] == format_number(row.median)
        assert float(cells["interval"]["data-low"]) == row.p05 and float(cells["interval"]["data-high"]) == row.p95
        assert cells["interval"]["text"] == f"{format_number(row.p05)} to {format_number(row.p95)}"
        assert float(cells["probability"]["data-value"]) == row.probability
        assert cells["probability"]["text"] == f"{row.probability:.0%}"
        assert cells["verdict"]["text"].strip().endswith(row.verdict)
        assert row.verdict.replace(" ", "-") in cells["verdict"]["class"]
    # `zjsim targets` recomputes from indicators.parquet: the same figures.
    recomputed = target_table(pd.read_parquet(ensemble / "indicators.parquet"))
    pd.testing.assert_frame_equal(recomputed, every_rule)
    # A fan chart for every plan indicator (and the context ones), with both names.
    assert set(PLAN_IDS) <= set(page.figures)
    for plan in plan_indicators():
        assert plan["name_zh"] in text and plan["name_en"] in text
    for name in SCENARIOS:
        assert f"<strong>{name}</strong>" in text


def test_the_comparison_table_is_the_paired_difference_against_the_baseline(ensemble, default_report):
    _, page = default_report
    frame = pd.read_parquet(ensemble / "indicators.parquet")
    expected = compare_table(frame, "baseline", [2025]).set_index(["indicator", "period", "scenario"])
    rows = page.tables["comparison"]
    assert {r["attrs"]["data-scenario"] for r in rows} == {"plan", "minimum_wage_40"}
    assert {r["attrs"]["data-indicator"] for r in rows} >= set(PLAN_IDS)
    for row in rows:
        key = (row["attrs"]["data-indicator"], row["attrs"]["data-period"], row["attrs"]["data-scenario"])
        assert float(row["cells"]["difference"]["data-value"]) == expected.loc[key, "difference"]
    periods = {r["attrs"]["data-indicator"]: r["attrs"]["data-period"] for r in rows}
    assert periods["new_urban_jobs"] == "2021-2025" and periods["pension_insured"] == "2025"


def test_the_funds_section_shows_each_fund_and_the_paired_difference_in_the_last_year(ensemble, default_report):
    from sim.report import FUNDS

    _, page = default_report
    assert set(FUNDS) <= set(page.figures)
    frame = pd.read_parquet(ensemble / "indicators.parquet")
    annual = frame[frame["period"] == "2025"].pivot_table(index=["indicator", "replicate"], columns="scenario", values="value")
    rows = page.tables["comparison funds"]
    assert {(r["attrs"]["data-indicator"], r["attrs"]["data-scenario"]) for r in rows} == {
        (key, name) for key in FUNDS for name in ("plan", "minimum_wage_40")}
    for row in rows:
        key, scenario = row["attrs"]["data-indicator"], row["attrs"]["data-scenario"]
        paired = (annual.loc[key, scenario] - annual.loc[key, "baseline"]).to_numpy()
        assert row["attrs"]["data-period"] == "2025"
        assert float(row["cells"]["difference"]["data-value"]) == pytest.approx(np.median(paired))
    # The sustainability rules the run reaches (2025, not 2035), with the verdicts of targets.parquet.
    targets = pd.read_parquet(ensemble / "targets.parquet")
    judged = targets[targets["rule_set"] == "sustainability"]
    assert set(judged["period"]) == {"2025"} and len(judged) == 2 * len(SCENARIOS)
    verdicts = {(r["attrs"]["data-indicator"], r["attrs"]["data-scenario"]): r["cells"] for r in page.tables["verdicts funds"]}
    assert set(verdicts) == {(r.indicator, r.scenario) for r in judged.itertuples()}
    for row in judged.itertuples():
        cells = verdicts[row.indicator, row.scenario]
        assert float(cells["median"]["data-value"]) == row.median
        assert float(cells["probability"]["data-value"]) == row.probability
        assert cells["verdict"]["text"].strip().endswith(row.verdict)


def test_the_who_gains_section_shows_the_distribution_and_the_group_effects(ensemble, default_report):
    from sim.report import DISTRIBUTION_ROWS
    from sim.targets import group_effects

    text, page = default_report
    assert "Who gains?" in text and "wage_distribution" not in page.figures  # one figure, no fan
    frame = pd.read_parquet(ensemble / "indicators.parquet")
    medians = frame.groupby(["scenario", "period", "indicator"])["value"].median()
    rows = {r["attrs"]["data-indicator"]: r["cells"] for r in page.tables["distribution"]}
    assert list(rows) == list(DISTRIBUTION_ROWS)
    for key, cells in rows.items():
        assert float(cells["start"]["data-value"]) == pytest.approx(medians["baseline", "2020", key])
        for name in SCENARIOS:
            assert float(cells[name]["data-value"]) == pytest.approx(medians[name, "2025", key])
    effects = group_effects(compare_table(frame, "baseline", [2025])).set_index(["group", "scenario"])
    shown = {(r["attrs"]["data-indicator"], r["attrs"]["data-scenario"]): r["cells"] for r in page.tables["groups"]}
    assert set(shown) == set(effects.index)
    for key, cells in shown.items():
        assert float(cells["difference"]["data-value"]) == pytest.approx(effects.loc[key, "employed_difference"])


def test_the_track_record_is_the_backtest_of_the_baseline_over_the_run(ensemble, default_report):
    from sim.backtest import backtest_table, read_observed

    _, page = default_report
    frame = pd.read_parquet(ensemble / "indicators.parquet")
    expected = backtest_table(frame, read_observed(), "baseline")
    expected = expected[expected["status"] != "not simulated"].set_index(["indicator", "period", "kind"])
    rows = page.tables["track-record"]
    assert len(rows) == len(expected) > 0
    assert {r["attrs"]["data-scenario"] for r in rows} == {"baseline"}
    for row in rows:
        key = (row["attrs"]["data-indicator"], row["attrs"]["data-period"], row["attrs"]["data-kind"])
        assert float(row["cells"]["observed"]["data-value"]) == expected.loc[key, "observed"]
        assert float(row["cells"]["median"]["data-value"]) == expected.loc[key, "median"]
        assert row["attrs"]["data-status"] == expected.loc[key, "status"]
    # Published 2021-2022 points fall in a 2021-2025 run; the 2016-2019 ones do not.
    assert ("employed", "2022", "stock") in expected.index and ("resident_population", "2017", "stock") not in expected.index


def test_the_page_loads_nothing_from_outside_and_its_figures_are_svg(default_report):
    text, page = default_report
    assert "default-src 'none'" in page.policy
    assert page.images and all(src.startswith("data:image/svg+xml;base64,") for src in page.images)
    assert not [link for link in page.links if not link.startswith("data:")]
    assert "<script" not in text
    for src in page.images:
        root = ElementTree.fromstring(base64.b64decode(src.split(",", 1)[1]))
        assert root.tag.endswith("svg")
    # One fan chart per indicator and fund shown, the verdict overview, the two comparisons, the wage
    # distribution and the group effects.
    assert len(page.images) == len(page.figures) + 5


def test_the_same_run_gives_the_same_report_and_the_pngs_match_the_figures(ensemble, default_report, tmp_path):
    first, page = report_of(ensemble, "--out", str(tmp_path / "a.html"), "--png", str(tmp_path / "png"))
    assert first == default_report[0]
    pngs = sorted((tmp_path / "png").glob("*.png"))
    assert len(pngs) == len(page.images)
    assert {p.stem for p in pngs} >= {"verdicts", "comparison", *(f"fan_{i}" for i in PLAN_IDS)}
    from PIL import Image

    with Image.open(pngs[0]) as image:
        assert image.format == "PNG" and image.width > 600


def test_a_single_replicate_gives_a_report_without_intervals_that_says_so(small_run, tmp_path):
    folder, _ = small_run
    text, page = report_of(folder, "--out", str(tmp_path / "single.html"))
    assert "single replicate" in text
    rows = page.tables["dashboard"]
    assert len(rows) == len(PLAN_IDS)
    assert all(r["cells"]["interval"]["text"] == "no interval (1 replicate)" for r in rows)
    assert all("data-low" not in r["cells"]["interval"] for r in rows)
    assert "Only one scenario in the report: nothing to compare." in text


def test_chosen_scenarios_from_a_folder_without_targets_parquet(ensemble, tmp_path):
    """Scenarios and the baseline can be chosen, and a run folder without
    targets.parquet still gives the dashboard, recomputed, and says so.  (One
    copy and one report for both: each report takes seconds.)"""
    copy = tmp_path / "copy"
    shutil.copytree(ensemble, copy)
    (copy / "targets.parquet").unlink()
    (copy / "report.html").unlink(missing_ok=True)
    text, page = report_of(copy, "--scenarios", "minimum_wage_40,plan", "--baseline", "plan")
    order = list(dict.fromkeys(r["attrs"]["data-scenario"] for r in page.tables["dashboard"]))
    assert order == ["minimum_wage_40", "plan"]
    assert {r["attrs"]["data-scenario"] for r in page.tables["comparison"]} == {"minimum_wage_40"}
    assert "targets.parquet is missing" in text
    targets = pd.read_parquet(ensemble / "targets.parquet").query("rule_set == 'plan' and scenario != 'baseline'")
    rows = {(r["attrs"]["data-indicator"], r["attrs"]["data-scenario"]): r["cells"] for r in page.tables["dashboard"]}
    assert set(rows) == {(r.indicator, r.scenario) for r in targets.itertuples()}
    assert all(float(rows[r.indicator, r.scenario]["median"]["data-value"]) == r.median for r in targets.itertuples())


def test_a_changed_targets_file_is_pointed_out_and_text_from_the_folder_is_escaped(ensemble, tmp_path):
    """A copied run folder whose targets.parquet was edited after the run, and
    whose scenario description (from a user's file) holds markup: the page
    says the file changed, and the markup stays text.  (One copy and one
    report for both: each report takes seconds.)"""
    import json

    copy = tmp_path / "copy"
    shutil.copytree(ensemble, copy)
    targets = pd.read_parquet(copy / "targets.parquet")
    targets.loc[0, "median"] += 1.0
    targets.to_parquet(copy / "targets.parquet", index=False)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["scenarios"][0]["text"] = manifest["scenarios"][0]["text"].replace(
        'description = "', 'description = "<script>alert(1)</script> & ', 1)
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    text, _ = report_of(copy)
    assert "does not match the checksum in manifest.json" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; " in text and "<script" not in text


def test_a_run_that_stops_before_2025_is_reported_without_a_verdict(tmp_path):
    scenario = load_scenario(ROOT / "scenarios/baseline.toml", scale=4000, end="2022-06")
    folder = run_scenarios([scenario], tmp_path, command_line=["test"]).folder
    text, page = report_of(folder)
    assert "The run ends in 2022-06" in text and "No verdict: the run does not reach 2025." in text
    assert "dashboard" not in page.tables and page.figures


def test_a_sweep_in_the_run_folder_adds_the_sensitivity_table(ensemble, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(ensemble, copy)
    sweep = zjsim("sweep", "scenarios/baseline.toml", "--vary", "postdoc_quota=1000:3000", "--vary",
                  "insurance_enforcement=0.5:3", "--samples", "4", "--replicates", "1", "--scale", "5000",
                  "--jobs", "2", "--out", str(copy))
    assert sweep.returncode == 0, sweep.stderr
    indices = pd.read_parquet(next(copy.glob("sweep-*/sensitivity.parquet"))).set_index(["output", "input"])
    text, _ = report_of(copy)
    assert "Which inputs decide each target?" in text
    assert "postdoc_quota 1,000.0 to 3,000.0; insurance_enforcement 0.50 to 3.00" in text
    row = text[text.index('<tr data-indicator="unemployment_insured"><td>'):]
    row = row[:row.index("</tr>")]
    for name in ("postdoc_quota", "insurance_enforcement"):
        st, conf = indices.loc[("unemployment_insured", name), ["ST", "ST_conf"]]
        assert f"{st:.2f} ± {conf:.2f}</td>" in row
    assert '<td class="num strong">' in row  # enforcement decides unemployment insurance


@pytest.mark.parametrize("args, message", [
    (["{missing}"], "no such run folder"),
    (["{empty}"], "not a run folder: indicators.parquet is missing"),
    (["{run}", "--scenarios", "plan,nowhere"], "scenario(s) nowhere not in the run; its scenarios are: baseline, plan, minimum_wage_40"),
    (["{run}", "--baseline", "plan", "--scenarios", "baseline,minimum_wage_40"], "baseline scenario 'plan' is not among"),
    (["{run}", "--out", "{tmp}/report.pdf"], "give a name ending in .html"),
    (["{run}", "--sweep", "{empty}"], "not a Sobol sweep folder"),
    (["{broken}"], "cannot read targets.parquet"),
])
def test_bad_input_exits_with_status_2_and_a_message(ensemble, tmp_path, args, message):
    (tmp_path / "empty").mkdir()
    broken = tmp_path / "broken"
    shutil.copytree(ensemble, broken)
    (broken / "targets.parquet").write_bytes(b"not parquet")
    values = {"missing": tmp_path / "missing", "empty": tmp_path / "empty", "run": ensemble, "tmp": tmp_path,
              "broken": broken}
    result = zjsim("report", *(a.format(**values) for a in args))
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unwritable_destination_is_a_clear_error(ensemble, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = zjsim("report", str(ensemble), "--out", str(blocker / "report.html"))
    assert result.returncode == 2 and "cannot create the output folder" in result.stderr and "Traceback" not in result.stderr


# -- in a real browser -----------------------------------------------------------
def _chromium():
    from headless import find_chromium

    executable = find_chromium()
    if executable is None:
        pytest.skip("Chromium is not installed (.ci/run installs Debian's chromium package when it can; "
                    "it could not here, e.g. without root or apt)")
    return executable


def test_the_browser_check_catches_console_errors_and_outside_loads(tmp_path):
    """The check below can fail: a page with a script error and a remote image fails it."""
    from headless import open_from_disk

    page = tmp_path / "bad.html"
    page.write_text('<html><body><p>x</p><img src="http://example.invalid/a.png">'
                    '<script>console.error("boom"); missingFunction();</script></body></html>')
    visit = open_from_disk(page, _chromium())
    assert any("boom" in e for e in visit.errors)
    assert any(e.startswith("exception") for e in visit.errors)
    assert any("ERR_INTERNET_DISCONNECTED" in e for e in visit.errors)
    assert visit.images == -1


def test_the_report_opens_in_headless_chromium_offline_without_errors(ensemble, default_report):
    from PIL import Image, ImageStat

    from headless import open_from_disk

    _, page = default_report
    visit = open_from_disk(ensemble / "report.html", _chromium())
    assert visit.errors == []
    assert visit.images == len(page.images)  # every figure decoded
    with Image.open(io.BytesIO(visit.screenshot)) as shot:
        grey = shot.convert("L")
        assert grey.size == (1280, 1600)
        assert ImageStat.Stat(grey).stddev[0] > 20  # not a blank page
        dark = sum(grey.histogram()[:128]) / (grey.width * grey.height)
        assert dark > 0.01  # text and figures drawn
