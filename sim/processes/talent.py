"""Professional-technical talent: titles, qualification certificates, postdocs.

College-educated people at work are granted a junior title at a monthly rate
(twice as often in public services and business services), are promoted to
intermediate (from age 28) and senior (from age 35) titles at monthly rates,
and obtain professional qualification certificates.  Titles stay with the
person; the talent stocks count those not retired.

Postdoctoral recruitment is a count of a few thousand people a year, far below
one row at most scales: it is kept as an exact number of persons, drawn each
month (Poisson) around the recruitment quota in force.
"""

import numpy as np

from ..status import EMPLOYED, SECTORS, is_employed
from ..table import Column
from .base import Process

PERSON_COLUMNS = {
    "title": Column(np.int8, 0, "professional-technical title: 0 none, 1 junior, 2 intermediate, 3 senior"),
    "qualified": Column(np.bool_, False, "holds a professional-technical qualification certificate"),
}
KNOWLEDGE_SECTORS = (SECTORS.index("business_services"), SECTORS.index("public_services"))


def _college_age(edu: np.ndarray, age_m: np.ndarray) -> np.ndarray:
    """College-educated and aged 22 to 59."""
    return (edu == 2) & (age_m >= 22 * 12) & (age_m < 60 * 12)


class Talent(Process):
    name = "talent"
    person_columns = PERSON_COLUMNS
    flows = {
        "junior_titles": "junior titles granted",
        "intermediate_titles": "promotions to an intermediate title",
        "senior_titles": "promotions to a senior title",
        "qualifications": "new professional qualification certificates",
        "postdocs": "postdoctoral researchers recruited (persons, not rows)",
    }

    def step(self, month: int) -> None:
        model, people = self.model, self.model.people
        junior_rate, intermediate_rate, senior_rate = (
            self.param("junior_title_rate"), self.param("intermediate_rate"), self.param("senior_rate"))
        # Only rows whose draw is below the largest monthly chance can change
        # title: test the conditions on those alone.
        largest = max(2.0 * junior_rate, intermediate_rate, senior_rate)
        idx, u = model.streams.rows_below(self.name, month, "titles", people.n, largest, people.status,
                                          dict.fromkeys(EMPLOYED, largest))
        title, age = people.title[idx], people.age_m[idx]
        working = is_employed(people.status[idx])
        sector = people.sector[idx]
        boost = np.where((sector == KNOWLEDGE_SECTORS[0]) | (sector == KNOWLEDGE_SECTORS[1]), 2.0, 1.0)
        college = working & _college_age(people.edu[idx], age)
        junior = idx[college & (title == 0) & (u < junior_rate * boost)]
        intermediate = idx[working & (title == 1) & (age >= 28 * 12) & (u < intermediate_rate)]
        senior = idx[working & (title == 2) & (age >= 35 * 12) & (u < senior_rate)]
        people.title[junior] = 1
        people.title[intermediate] = 2
        people.title[senior] = 3
        model.flows["junior_titles"] += len(junior)
        model.flows["intermediate_titles"] += len(intermediate)
        model.flows["senior_titles"] += len(senior)

        rate = self.param("qualification_rate")
        idx, _ = model.streams.rows_below(self.name, month, "qualification", people.n, rate, people.status,
                                          dict.fromkeys(EMPLOYED, rate))
        qualifies = idx[is_employed(people.status[idx]) & _college_age(people.edu[idx], people.age_m[idx]) & ~people.qualified[idx]]
        people.qualified[qualifies] = True
        model.flows["qualifications"] += len(qualifies)

        quota = model.policy.postdoc_quota
        if quota is None:
            quota = model.calibration.stocks("talent_flows.postdoc_recruitment")
        model.flows["postdocs"] += int(self.rng(month, "postdocs").poisson(quota / 12.0))
