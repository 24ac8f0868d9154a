"""The 2020 wage structure against the published figures (sim/wage_fit.py, issue 16 part 2)."""

import numpy as np
import pytest

from sim.errors import InputError
from sim.calibration import Calibration
from sim.wage_fit import FIT_SCALE, FIT_SEEDS, REPORT, TOLERANCE, gini, mean_moments, read_structure, targets

# Targets the fit leaves outside 5% (calibration/wage_fit_report.md).  One
# premium per sector serves both ownerships, and the model's non-private units
# are its larger firms: agriculture's published gap to manufacturing is -13%
# in non-private units and -26% in private ones, construction's -25% against
# -4%; the least-squares fit splits the difference.
OUT_OF_REACH = {"ratio:non_private:agriculture", "ratio:private:agriculture",
                "ratio:non_private:construction", "ratio:private:construction"}


def test_gini_of_known_samples():
    assert gini(np.arange(1, 11)) == pytest.approx(0.3)
    assert gini(np.ones(100)) == pytest.approx(0.0, abs=1e-12)
    x = np.random.default_rng(3).lognormal(0.0, 0.5, 200_000)
    # Lognormal: G = 2 Phi(sigma / sqrt 2) - 1 = 0.2763 for sigma 0.5.
    assert gini(x) == pytest.approx(0.2763, abs=0.003)


def test_the_targets_are_read_from_the_cited_table():
    goal = {t.name: t for t in targets(read_structure())}
    # One published sector: Zhejiang 2022, construction over manufacturing, non-private 76,526 / 102,153.
    assert goal["ratio:non_private:construction"].value == pytest.approx(76526 / 102153)
    # A group: the geometric mean of its members, inside their range.
    trade = goal["ratio:private:trade_logistics_hospitality"]
    assert len(trade.members) == 4 and trade.low < trade.value < trade.high
    assert "ratio:private:public_services" not in goal  # model public services are all non-private
    assert goal["gini:unit"].value == 0.38


def test_the_2020_distribution_matches_the_cited_figures():
    """The populations the fit used (scale 200, seeds 1-8; at scale 1000 the
    non-private cells of small sectors hold a handful of firm rows, or none)
    meet every reachable target within 5%, and the others stay within 20%.
    Eight seeds, not three: the non-private agricultural cell holds few firm
    rows at scale 200, and a fit to three seeds matched their draw, not the
    law (-4% for seeds 1-3, -24% to -28% for three other sets of three)."""
    moments = mean_moments(Calibration.load(), FIT_SCALE, list(range(1, FIT_SEEDS + 1)))
    for target in targets(read_structure()):
        tolerance = 0.20 if target.name in OUT_OF_REACH else TOLERANCE
        assert moments[target.name] == pytest.approx(target.value, rel=tolerance), target.name
    assert moments["low_pay_share:unit"] == pytest.approx(0.27, abs=0.03)  # CHIP 2002, a check


def test_the_fit_report_lists_every_target():
    text = REPORT.read_text(encoding="utf-8")
    for target in targets(read_structure()):
        assert f"| {target.name} |" in text


@pytest.mark.parametrize("column, bad, message", [
    ("kind", "quantile", "kind 'quantile' is not sector_wage, gini or low_pay_share"),
    ("ownership", "state", "ownership 'state' is not one of non_private, private"),
    ("model_sector", "mining", "model_sector 'mining' is not one of"),
    ("value", "about 9万", "value 'about 9万' is not a number"),
])
def test_a_bad_structure_file_names_the_line_and_key(tmp_path, column, bad, message):
    source = REPORT.with_name("wage_structure.csv").read_text(encoding="utf-8").splitlines()
    header = source[0].split(",")
    path = tmp_path / "wage_structure.csv"
    import csv

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        rows = list(csv.reader(source[1:]))
        rows[2][header.index(column)] = bad
        writer.writerows(rows)
    with pytest.raises(InputError) as err:
        read_structure(path)
    assert message in str(err.value) and "line 4" in str(err.value) and str(path) in str(err.value)


def test_a_scale_too_coarse_for_the_targets_exits_2_with_a_message(tmp_path):
    """At scale 5000 some sector has no non-private firm row: the fit says
    so and which scale to use, instead of failing inside the optimiser."""
    import subprocess
    import sys
    from pathlib import Path

    cli = Path(__file__).resolve().parent.parent / "cli.py"
    before = REPORT.read_bytes()
    out = subprocess.run([sys.executable, str(cli), "fit-wages", "--scale", "5000", "--seeds", "1"],
                         capture_output=True, text=True)
    assert out.returncode == 2, out.stderr
    assert "key '--scale': scale 5000 is too coarse: no rows for ratio:non_private:" in out.stderr
    assert "use a scale of 500 or finer" in out.stderr
    assert "Traceback" not in out.stderr
    assert REPORT.read_bytes() == before  # nothing written


def test_the_command_defaults_are_the_fit_s_populations():
    """`zjsim fit-wages --write` with its defaults reproduces the committed
    values: its options default to the scale and seeds the fit used."""
    from sim.cli import fit_wages

    defaults = {option.name: option.default for option in fit_wages.params}
    assert (defaults["scale"], defaults["seeds"]) == (FIT_SCALE, FIT_SEEDS)
    assert f"scale {FIT_SCALE:g}, mean of {FIT_SEEDS} seeds" in REPORT.read_text(encoding="utf-8")
