"""The synthetic 2020 population reproduces its sources (calibration/baseline_2020.toml)."""

import numpy as np
import pytest

from sim.processes.demography import statutory_age_months
from sim.timeline import BASELINE_MONTH
from sim.status import EMPLOYED, PUBLIC_SECTOR, Status


def persons(mask, scale):
    return mask.sum() * scale


def close(actual, expected, rel):
    assert actual == pytest.approx(expected, rel=rel), f"{actual} vs {expected} (tolerance {rel:.1%})"


def test_population_and_structure(population, calibration):
    people, _, _, scale = population
    s = calibration.stocks
    alive = people.status != Status.ABSENT
    n = alive.sum()
    # Whole rows: the total is exact up to rounding to one row.
    assert abs(n * scale - s("population.resident_total")) <= scale
    age = people.age_m // 12
    close((age <= 14).mean(), s("population.age_0_14_share"), 0.01)
    close((age >= 65).mean(), s("population.age_65_plus_share"), 0.01)
    close(((age >= 60) & (age <= 64)).mean(), s("population.age_60_64_share"), 0.01)
    close((~people.female).mean(), s("population.male_share"), 0.002)
    close(people.urban.mean(), s("population.urban_share"), 0.002)
    close((~people.local).mean(), s("population.other_province_share"), 0.002)
    close((people.edu == 2).mean(), s("population.college_share"), 0.01)
    close((people.edu == 1).mean(), s("population.senior_secondary_share"), 0.01)


def test_labour_market(population, calibration):
    people, firms, _, scale = population
    s = calibration.stocks
    status = people.status
    close(persons(np.isin(status, EMPLOYED), scale), s("labour.employed_total"), 0.001)
    close(persons(status == Status.UNIT, scale), s("labour.unit_employed"), 0.001)
    close(persons(status == Status.SELF, scale), s("labour.self_employed"), 0.001)
    urban = people.urban
    rate = (urban & (status == Status.UNEMP)).sum() / (urban & np.isin(status, (*EMPLOYED, Status.UNEMP))).sum()
    assert rate == pytest.approx(s("labour.surveyed_unemployment_rate"), abs=0.001)
    # Enterprises: each firm row outside the public sector stands for `represents`
    # firms.  The count is right in expectation; the heavy tail of firm sizes
    # (a few firms of 10^4-10^5 employees, drawn at every scale) moves it by a
    # few percent from one draw to the next.
    enterprises = firms.represents[firms.alive & (firms.sector != PUBLIC_SECTOR)].sum()
    close(enterprises, s("labour.enterprises"), 0.06)
    # Every firm's size in persons is rows x scale / represents, at least one employee.
    per_firm = np.bincount(people.firm[status == Status.UNIT], minlength=firms.n) * scale / firms.represents
    assert per_firm.min() >= 1.0 - 1e-3 and per_firm.max() <= (calibration.params("labour_demand.largest_firm") + 1.0) * (1 + 1e-5)  # float32 represents


def test_wages_match_published_means(population, calibration):
    people, firms, derived, _ = population
    s = calibration.stocks
    unit = people.status == Status.UNIT
    non_private = firms.non_private[people.firm[unit]]
    wages = people.wage[unit].astype(np.float64) * 12
    close(wages[non_private].mean(), s("wages.non_private_annual"), 0.001)
    close(wages[~non_private].mean(), s("wages.private_annual"), 0.001)
    close(non_private.mean(), s("labour.non_private_share_of_unit_employment"), 0.03)
    # Employees of complying firms earn at least their tier's 2020 minimum.
    tiers = s("wages.minimum_wage_tiers")
    complying = firms.complies_min_wage[people.firm[unit]]
    assert (people.wage[unit][complying] >= tiers[people.tier[unit][complying]] - 1e-3).all()


def test_talent_insurance_and_cards_match_the_plan_2020_values(population, calibration):
    people, _, _, scale = population
    s = calibration.stocks
    close(persons(people.skill >= 1, scale), s("talent.skilled"), 0.01)
    close(persons(people.skill >= 3, scale), s("talent.high_skilled"), 0.01)
    close(persons(people.title >= 1, scale), s("talent.professional_technical"), 0.01)
    close(persons(people.title == 3, scale), s("talent.senior_title"), 0.01)
    pension = people.pension_employee | people.pension_retiree | people.pension_resident
    close(persons(pension, scale), s("insurance.pension_insured"), 0.01)
    close(persons(people.unemployment_insured, scale), s("insurance.unemployment_insured"), 0.01)
    close(persons(people.work_injury_insured, scale), s("insurance.work_injury_insured"), 0.01)
    close(persons(people.card, scale), s("insurance.card_holders"), 0.01)
    close(people.ecard.mean(), s("insurance.electronic_card_coverage"), 0.01)
    # Insured only among those eligible: unemployment and work-injury cover is for workers.
    assert not (people.unemployment_insured & (people.status == Status.SCHOOL)).any()
    assert not (people.pension_employee & people.pension_resident).any()


def test_everyone_is_placed_consistently(population):
    people, firms, _, _ = population
    unit = people.status == Status.UNIT
    assert (people.firm[unit] >= 0).all() and firms.alive[people.firm[unit]].all()
    assert (people.firm[~unit] == -1).all()
    assert (people.sector[np.isin(people.status, EMPLOYED)] >= 0).all()
    # Nobody in a unit job is past the statutory retirement age at the end of 2020.
    limit = statutory_age_months(people.female, people.cadre, BASELINE_MONTH - people.age_m.astype(np.int32), reform=False)
    assert (people.age_m[unit] < limit[unit]).all()
    assert (people.status[people.age_m < 16 * 12] == Status.SCHOOL).all()
