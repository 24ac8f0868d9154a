"""One continuous history: the end-2015 population run through 2020 and the
end-2020 population agree on 2021-2022 (issue 11, point 5).

Both run the realised policy (scenarios/realised.toml) at scale 1000, two
replicates each; stocks must agree within 3% and flows within 5%.
"""

from pathlib import Path

import numpy as np
import pytest

from sim.calibration import Calibration
from sim.model import LabourModel
from sim.scenario import load_scenario
from sim.timeline import parse_month

REALISED = Path(__file__).resolve().parent.parent / "scenarios" / "realised.toml"

SCALE = 1000
STOCKS = ("resident_population", "employed", "pension_insured", "unemployment_insured", "work_injury_insured",
          "professional_technical_talent", "senior_title_talent", "skilled_talent", "high_skilled_talent",
          "social_security_card_holders", "average_wage")
FLOWS = ("new_urban_jobs", "vocational_training", "new_vocational_certificates", "new_senior_vocational_certificates",
         "new_professional_qualifications")
# Where the two histories still disagree (issue 11 stays open on these): the
# training and certificate flows and the titles of the run from 2015 fall 5-30%
# below those of the 2020 population; new urban jobs are 7-8% above; the
# unemployment and work-injury insured drift 2-4% apart.
KNOWN_GAPS = {"vocational_training", "new_vocational_certificates", "new_senior_vocational_certificates",
              "new_professional_qualifications", "professional_technical_talent", "unemployment_insured",
              "work_injury_insured", "new_urban_jobs"}


@pytest.fixture(scope="module")
def histories():
    levers = load_scenario(REALISED).levers
    values = {}
    for year in (2015, 2020):
        calibration = Calibration.load(baseline_year=year)
        runs = []
        for seed in (1, 2):
            model = LabourModel(seed=seed, scale=SCALE, policy=levers, calibration=calibration)
            model.run_until(parse_month("2022-12"))
            runs.append({(y, k): v for y, k, v in model.recorder.annual()})
        values[year] = {key: float(np.mean([run[key] for run in runs])) for key in runs[0]}
    return values


def _gap(histories, key, year):
    return histories[2015][(year, key)] / histories[2020][(year, key)] - 1.0


@pytest.mark.parametrize("key", [k for k in STOCKS + FLOWS if k not in KNOWN_GAPS])
def test_the_two_histories_agree_in_2021_and_2022(histories, key):
    tolerance = 0.03 if key in STOCKS else 0.05
    for year in (2021, 2022):
        assert abs(_gap(histories, key, year)) <= tolerance, (key, year, round(_gap(histories, key, year), 4))


@pytest.mark.xfail(strict=True, reason="known seam gaps (KNOWN_GAPS), issue 11 stays open on them")
@pytest.mark.parametrize("key", sorted(KNOWN_GAPS))
def test_known_gaps_still_disagree(histories, key):
    tolerance = 0.03 if key in STOCKS else 0.05
    assert all(abs(_gap(histories, key, year)) <= tolerance for year in (2021, 2022))
