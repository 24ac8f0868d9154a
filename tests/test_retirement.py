"""Statutory retirement ages before and after the 2025 reform."""

import numpy as np
import pytest

from sim.processes.demography import statutory_age_months
from sim.timeline import parse_month


def age(female, cadre, born, reform=True):
    result = statutory_age_months(np.array([female]), np.array([cadre]), np.array([parse_month(born)]), reform)[0]
    return divmod(int(result), 12)


@pytest.mark.parametrize(
    "female, cadre, born, expected",
    [
        (False, False, "1964-12", (60, 0)),  # before the first reformed cohort
        (False, False, "1965-01", (60, 1)),  # +1 month for the first four birth months
        (False, False, "1965-04", (60, 1)),
        (False, False, "1965-05", (60, 2)),
        (False, False, "1976-12", (63, 0)),  # capped at 63
        (False, False, "1990-06", (63, 0)),
        (True, False, "1974-12", (50, 0)),
        (True, False, "1975-01", (50, 1)),  # women workers: +1 month every two months
        (True, False, "1975-03", (50, 2)),
        (True, False, "1984-12", (55, 0)),  # capped at 55
        (True, True, "1969-12", (55, 0)),
        (True, True, "1970-01", (55, 1)),  # women cadres: +1 month every four months
        (True, True, "1981-12", (58, 0)),
    ],
)
def test_reform_schedule(female, cadre, born, expected):
    assert age(female, cadre, born) == expected


def test_without_reform_ages_stay_at_60_55_50():
    assert age(False, False, "1980-01", reform=False) == (60, 0)
    assert age(True, True, "1980-01", reform=False) == (55, 0)
    assert age(True, False, "1980-01", reform=False) == (50, 0)
