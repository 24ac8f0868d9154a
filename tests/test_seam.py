"""One continuous history: the end-2015 population run through 2020 and the
end-2020 population agree on 2021-2022 (issue 11, point 5).

Both run the realised policy (scenarios/realised.toml) at scale 300, fourteen
replicates each (with ten, the noise allowance of new senior vocational
certificates, whose replicates vary by 5-6% at this scale, reached the
tolerance); stocks must agree within 3% and flows within 5%, beyond the
sampling noise of the comparison (two standard errors of the gap, from the
replicates' spread): at scale 1000 with two replicates, as before, a stock
such as senior-title holders (a few hundred rows) or a net flow such as new
urban jobs moved by 3-8% with the random numbers alone.
"""

from pathlib import Path

import numpy as np
import pytest

from sim.calibration import Calibration
from sim.executors import LocalExecutor
from sim.model import LabourModel
from sim.scenario import load_scenario
from sim.status import Status
from sim.timeline import parse_month

REALISED = Path(__file__).resolve().parent.parent / "scenarios" / "realised.toml"

SCALE = 300
SEEDS = tuple(range(1, 15))
STOCKS = ("resident_population", "employed", "pension_insured", "unemployment_insured", "work_injury_insured",
          "professional_technical_talent", "senior_title_talent", "skilled_talent", "high_skilled_talent",
          "social_security_card_holders", "average_wage")
FLOWS = ("new_urban_jobs", "vocational_training", "new_vocational_certificates", "new_senior_vocational_certificates",
         "new_professional_qualifications")
# Gaps closed so far: training, certificates, unemployment and work-injury
# insured (new hires enrolled at the current coverage, the 2020 skill-level
# split the run from 2015 reaches, students from other provinces filling the
# colleges' intake); employment (refitted through the participation
# elasticity); the average wage (the 2015 non-private share set so the run
# reaches the 2020 split); professional-technical talent (the 2015 college
# share derived from the 2020 census by birth cohort); new qualifications (the
# built population holds the qualifications the talent process would have
# given it); new urban jobs (residents from other provinces settle, so the run
# from 2015 reaches the census's share of them instead of 12% more).



def _history(year: int, seed: int) -> dict:
    """One replicate of the realised policy from end-`year`: its annual values
    to 2022 and the share of residents from other provinces at end-2020."""
    levers = load_scenario(REALISED).levers
    model = LabourModel(seed=seed, scale=SCALE, policy=levers, calibration=Calibration.load(baseline_year=year))
    model.run_until(parse_month("2020-12"))
    residents = model.people.status != Status.ABSENT
    share = np.count_nonzero(residents & ~model.people.local) / np.count_nonzero(residents)
    model.run_until(parse_month("2022-12"))
    return {(y, k): v for y, k, v in model.recorder.annual()} | {(2020, "other_province_share"): share}


@pytest.fixture(scope="module")
def histories():
    """Both histories, their replicates on two worker processes (the project's
    local pool, one kernel thread each: at this scale a step is mostly
    Python, which one process cannot spread over two cores)."""
    tasks = {(year, seed): (year, seed) for year in (2015, 2020) for seed in SEEDS}
    runs = dict(LocalExecutor(2).map(_history, tasks))
    values = {}
    for year in (2015, 2020):
        replicates = [runs[year, seed] for seed in SEEDS]
        values[year] = {key: np.array([run[key] for run in replicates]) for key in replicates[0]}
    return values


def test_the_run_from_2015_reaches_the_census_share_from_other_provinces(histories):
    """Residents registered in other provinces at end-2020: 25.07% in the 7th
    census (16,186,454 of 64,567,588), which the population built for 2020
    holds; the run from 2015 (22% then) must reach it through net migration
    and settlement, within half a point."""
    census = Calibration.load(baseline_year=2020).stocks("population.other_province_share")
    assert abs(histories[2020][(2020, "other_province_share")].mean() - census) < 0.002
    assert abs(histories[2015][(2020, "other_province_share")].mean() - census) < 0.005


def _gap(histories, key, year):
    """Relative gap of the 2015 history's mean to the 2020 one's."""
    return histories[2015][(year, key)].mean() / histories[2020][(year, key)].mean() - 1.0


def _noise(histories, key, year):
    """Standard error of the relative gap, from the replicates of both histories."""
    a, b = histories[2015][(year, key)], histories[2020][(year, key)]
    return float(np.hypot(a.std(ddof=1) / a.mean(), b.std(ddof=1) / b.mean())) / np.sqrt(len(SEEDS))


def _agree(histories, key, year):
    tolerance = 0.03 if key in STOCKS else 0.05
    return abs(_gap(histories, key, year)) <= tolerance + 2.0 * _noise(histories, key, year)


@pytest.mark.parametrize("key", STOCKS + FLOWS)
def test_the_two_histories_agree_in_2021_and_2022(histories, key):
    for year in (2021, 2022):
        assert _agree(histories, key, year), (key, year, round(_gap(histories, key, year), 4), round(_noise(histories, key, year), 4))


def test_the_noise_allowance_is_small_against_the_tolerances(histories):
    """The allowance for sampling noise must not swallow the tolerance: the
    comparison is only a test if the noise is well below the gaps it judges."""
    for key in STOCKS + FLOWS:
        for year in (2021, 2022):
            assert 2.0 * _noise(histories, key, year) < (0.03 if key in STOCKS else 0.05), (key, year)
