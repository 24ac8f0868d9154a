"""The target verdict and comparisons against hand-computed cases, and ensembles."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.runner import run_scenarios
from sim.scenario import load_scenario
from sim.targets import compare_table, render, target_table

ROOT = Path(__file__).resolve().parent.parent


def frame_of(rows):
    return pd.DataFrame(rows, columns=["scenario", "replicate", "period", "indicator", "value"])


def test_probabilities_and_intervals_of_a_hand_computed_case():
    # Five replicates of the pension stock in 2025 (target >= 4500) and of new
    # urban jobs 2021-2025 (cumulative, target >= 500: 100 a year).
    rows = []
    for r, pension in enumerate([4400.0, 4480.0, 4500.0, 4600.0, 4700.0]):
        rows.append(("s", r, "2025", "pension_insured", pension))
        for year in range(2021, 2026):
            rows.append(("s", r, str(year), "new_urban_jobs", 90.0 + 5 * r))  # sums 450, 475, 500, 525, 550
        rows.append(("s", r, "2020", "new_urban_jobs", 1000.0))  # not part of 2021-2025
    table = target_table(frame_of(rows)).set_index("indicator")
    pension = table.loc["pension_insured"]
    assert pension["probability"] == pytest.approx(0.6)  # 4500, 4600, 4700 meet >= 4500
    assert pension["median"] == 4500.0
    assert pension["p05"] == pytest.approx(np.percentile([4400, 4480, 4500, 4600, 4700], 5))  # 4416
    assert pension["p95"] == pytest.approx(4680.0)
    assert pension["verdict"] == "at risk"
    jobs = table.loc["new_urban_jobs"]
    assert jobs["median"] == 500.0 and jobs["probability"] == pytest.approx(0.6)
    assert jobs["base_2020"] != jobs["base_2020"]  # no base in the plan table


def test_about_rules_and_verdict_thresholds():
    rows = [("s", r, "2025", "surveyed_unemployment_rate", v) for r, v in enumerate([5.0, 5.6, 5.62, 5.7])]
    rows += [("s", r, "2025", "minimum_wage_to_average_wage", v) for r, v in enumerate([39.3, 39.1, 38.0, 41.0])]
    table = target_table(frame_of(rows)).set_index("indicator")
    # about 5.5 or less: within 2% above 5.5 (<= 5.61) meets
    assert table.loc["surveyed_unemployment_rate", "probability"] == pytest.approx(0.5)
    assert table.loc["surveyed_unemployment_rate", "verdict"] == "at risk"
    # about 40: within 2% below (>= 39.2) meets
    assert table.loc["minimum_wage_to_average_wage", "probability"] == pytest.approx(0.5)


def test_sustainability_rules_are_judged_in_the_years_the_run_reaches():
    from sim.targets import sustainability_rules, unjudged_rules

    rules = {(r["indicator"], r["year"]): r for r in sustainability_rules()}
    threshold = rules[("pension_fund_months", 2035)]["threshold"]
    months = [threshold - 2, threshold, threshold + 5, threshold + 9]  # three of four meet >= threshold
    rows = [("s", r, "2025", "pension_fund_months", 20.0) for r in range(4)]
    rows += [("s", r, "2035", "pension_fund_months", v) for r, v in enumerate(months)]
    table = target_table(frame_of(rows))
    funds = table[(table["rule_set"] == "sustainability") & (table["indicator"] == "pension_fund_months")]
    judged = funds.set_index("period")
    assert judged.loc["2035", "probability"] == pytest.approx(0.75) and judged.loc["2035", "verdict"] == "at risk"
    assert judged.loc["2035", "median"] == pytest.approx(threshold + 2.5)
    assert judged.loc["2025", "probability"] == 1.0 and judged.loc["2025", "target"] == rules[("pension_fund_months", 2025)]["threshold"]
    # The plan's targets keep their rule set and period.
    plan = table[table["rule_set"] == "plan"]
    assert set(plan["period"]) <= {"2025", "2021-2025"}
    # A run to 2025 judges the 2025 rules only and names the others.
    short = frame_of([row for row in rows if row[2] == "2025"])
    assert set(target_table(short).query("rule_set == 'sustainability'")["period"]) == {"2025"}
    assert {r["year"] for r in unjudged_rules(short)} == {2035}


def test_paired_differences_use_the_same_replicate():
    rows = [("baseline", r, "2025", "employed", 100.0 + r) for r in range(3)]
    rows += [("plan", r, "2025", "employed", 110.0 + 2 * r) for r in range(3)]  # differences 10, 11, 12
    table = compare_table(frame_of(rows), "baseline", [2025])
    assert list(table["scenario"]) == ["plan"]
    row = table.iloc[0]
    assert row["difference"] == 11.0 and row["difference_p05"] == pytest.approx(10.1) and row["difference_p95"] == pytest.approx(11.9)
    assert "plan" in render(table, "table") and render(table, "csv").startswith("scenario,indicator")


def test_ensemble_bytes_do_not_depend_on_jobs_and_replicates_share_seeds(tmp_path):
    scenarios = [load_scenario(ROOT / f"scenarios/{n}.toml", scale=4000, end="2025-12") for n in ("baseline", "insurance_drive")]
    one = run_scenarios(scenarios, tmp_path / "one", replicates=2, jobs=1)
    two = run_scenarios(scenarios, tmp_path / "two", replicates=2, jobs=2)
    for name in ("indicators.parquet", "targets.parquet"):
        assert (one.folder / name).read_bytes() == (two.folder / name).read_bytes()
    frame = pd.read_parquet(one.folder / "indicators.parquet")
    pop = frame[(frame["indicator"] == "resident_population") & (frame["period"] == "2021-06")].set_index(["scenario", "replicate"])["value"]
    # Common random numbers: the insurance lever does not touch demography, so
    # replicate r has the same population in both scenarios; replicates differ.
    assert pop["baseline", 0] == pop["insurance_drive", 0] and pop["baseline", 0] != pop["baseline", 1]


def _cli(args: list[str]):
    """A command in this process (the run itself goes through a subprocess)."""
    from click.testing import CliRunner

    from sim.cli import main

    return CliRunner().invoke(main, args)


def test_targets_and_compare_commands(tmp_path):
    out = tmp_path / "runs"
    cli = [sys.executable, str(ROOT / "cli.py")]
    done = subprocess.run(cli + ["run", str(ROOT / "scenarios/baseline.toml"), str(ROOT / "scenarios/plan.toml"),
                                 "--scale", "5000", "--replicates", "2", "--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    folder = next(out.iterdir())
    shown = _cli(["targets", str(folder)])
    assert shown.exit_code == 0 and "城镇调查失业率" in shown.stdout and "verdict" in shown.stdout
    data = _cli(["targets", str(folder), "--format", "json"])
    stored = pd.read_parquet(folder / "targets.parquet")
    assert data.exit_code == 0 and str(round(stored["median"].iloc[0], 6))[:6] in data.stdout
    compared = _cli(["compare", str(folder), "--format", "csv"])
    assert compared.exit_code == 0 and compared.stdout.startswith("scenario,indicator,name_zh,name_en,unit,period")
    bad = _cli(["compare", str(folder), "--baseline", "nope"])
    assert bad.exit_code == 2 and "baseline scenario 'nope' is not in the run(s)" in bad.stderr
    twice = _cli(["compare", str(folder), str(folder)])
    assert twice.exit_code == 2 and "appears in more than one of the runs" in twice.stderr
    missing = _cli(["targets", str(tmp_path)])
    assert missing.exit_code == 2 and "indicators.parquet is missing" in missing.stderr and "Traceback" not in missing.stderr
    # Who gains: the plan's paired effect on employment by group; each partition of the employed adds up,
    # replicate by replicate, to the total effect (so the medians of the groups come near it).
    from sim.distribution import GROUPS

    groups = _cli(["compare", str(folder), "--by", "group", "--format", "json"])
    assert groups.exit_code == 0, groups.stderr
    effects = pd.DataFrame(json.loads(groups.stdout)).set_index("group")
    table = compare_table(pd.read_parquet(folder / "indicators.parquet"), "baseline", [2025]).set_index("indicator")
    assert effects.loc["all", "employed_difference"] == pytest.approx(table.loc["employed", "difference"])
    assert effects.loc["migrant", "income_difference"] == pytest.approx(table.loc["income_migrant", "difference"])
    assert set(effects.index) == {"all"} | {g for _, ids, _, _ in GROUPS for g in ids}
    frame = pd.read_parquet(folder / "indicators.parquet")
    paired = frame[frame["period"] == "2025"].pivot_table(index="replicate", columns=["indicator", "scenario"], values="value")
    for _, ids, _, _ in GROUPS:
        by_group = sum(paired[f"employed_{g}", "plan"] - paired[f"employed_{g}", "baseline"] for g in ids)
        assert np.allclose(by_group, paired["employed", "plan"] - paired["employed", "baseline"], rtol=1e-9, atol=1e-9)
    shown = subprocess.run(cli + ["compare", str(folder), "--by", "group"], capture_output=True, text=True)
    assert shown.returncode == 0 and "registered in another provinc" in shown.stdout
    older = tmp_path / "older"
    older.mkdir()
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    stored = pq.read_table(folder / "indicators.parquet")
    kept = pc.invert(pc.or_(pc.starts_with(stored["indicator"], "employed_"), pc.starts_with(stored["indicator"], "income_")))
    pq.write_table(stored.filter(kept), older / "indicators.parquet")  # a run from before the groups were recorded
    old = subprocess.run(cli + ["compare", str(older), "--by", "group"], capture_output=True, text=True)
    assert old.returncode == 2 and "no employment by group" in old.stderr and "Traceback" not in old.stderr


def test_terminal_tables_fit_100_columns_and_speak_in_words(tmp_path):
    """Default tables: under 100 columns, rules in words, rate differences in pp, 万人 beside units."""
    import unicodedata

    from sim.targets import NARROW, compare_table, narrow_compare, narrow_targets, render_blocks, rule_text, unit_text

    def width(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)

    rows = []
    for r in range(4):
        for scenario, shift in (("baseline", 0.0), ("plan", 1.0)):
            rows += [(scenario, r, "2025", "surveyed_unemployment_rate", 4.0 - 0.1 * shift + 0.01 * r),
                     (scenario, r, "2025", "pension_insured", 4600.0 + 50 * shift + r),
                     (scenario, r, "2025", "minimum_wage_to_average_wage", 30.0 + 10 * shift)]
            rows += [(scenario, r, str(y), "new_urban_jobs", 100.0 + shift) for y in range(2021, 2026)]
    frame = frame_of(rows)
    verdicts = render_blocks(narrow_targets(target_table(frame)), "scenario: ")
    differences = render_blocks(narrow_compare(compare_table(frame, "baseline", [2025])), "against baseline: ")
    for text in (verdicts, differences):
        assert max(width(line) for line in text.splitlines()) <= NARROW
        assert "about_or_below" not in text and ">=" not in text
    assert "≤ about 5.50" in verdicts and "万人" in verdicts
    assert " pp" in differences  # the unemployment rate's difference is in percentage points
    assert rule_text("about_or_above", 40) == "≥ about 40.00" and unit_text("10k persons") == "万人 (10k persons)"
    table = compare_table(frame, "baseline", [2025])
    rates = table[table["unit"] == "%"]
    assert set(rates["difference_unit"]) == {"pp"}
    ids = list(dict.fromkeys(table["indicator"]))
    assert ids.index("new_urban_jobs") < ids.index("pension_insured")  # plan order, not alphabetical


BAD_RULES = [
    ("indicator", "pension_fund_months", "pension_fund_monthz", "indicator 'pension_fund_monthz' is not one a run writes"),
    ("year", ",2035,12,", ",2040,12,", "year 2040 is not from 2021 to 2035"),
    ("threshold", ",2035,12,", ",2035,twelve,", "threshold 'twelve' is not a number"),
    ("comparison", ",12,>=,", ",12,>,", "comparison '>' is not allowed; expected one of >=, about_or_below, about_or_above"),
]


@pytest.mark.parametrize("key, old, new, message", BAD_RULES, ids=[b[0] for b in BAD_RULES])
def test_a_bad_sustainability_rule_is_one_message_exit_2_and_stops_a_run_before_it_writes(
        tmp_path, monkeypatch, small_run, key, old, new, message):
    """The rules file is the planners' to edit: a bad row names the file, the
    line and the key; `zjsim targets` exits 2, and `zjsim run` stops before it
    writes anything."""
    from click.testing import CliRunner

    import sim.targets
    from sim.cli import main
    from sim.errors import InputError
    from sim.targets import SUSTAINABILITY_RULES, sustainability_rules

    text = SUSTAINABILITY_RULES.read_text(encoding="utf-8")
    assert old in text
    bad = tmp_path / "rules.csv"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InputError) as err:
        sustainability_rules(bad)
    assert message in str(err.value) and str(bad) in str(err.value) and f"'{key}" in str(err.value) and "line " in str(err.value)
    monkeypatch.setattr(sim.targets, "SUSTAINABILITY_RULES", bad)
    folder, _ = small_run
    shown = CliRunner().invoke(main, ["targets", str(folder)])
    assert shown.exit_code == 2 and message in shown.output and "Traceback" not in shown.output
    out = tmp_path / "out"
    out.mkdir()
    run = CliRunner().invoke(main, ["run", str(ROOT / "scenarios/baseline.toml"), "--scale", "5000", "--out", str(out)])
    assert run.exit_code == 2 and message in run.output and list(out.iterdir()) == []
