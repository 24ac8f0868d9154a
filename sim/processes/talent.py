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

from ..status import SECTORS, Status
from ..table import Column
from .base import Process

PERSON_COLUMNS = {
    "title": Column(np.int8, 0, "professional-technical title: 0 none, 1 junior, 2 intermediate, 3 senior"),
    "qualified": Column(np.bool_, False, "holds a professional-technical qualification certificate"),
}
KNOWLEDGE_SECTORS = (SECTORS.index("business_services"), SECTORS.index("public_services"))


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
        status = people.status
        u = self.uniform(month, "titles")
        working = (status >= Status.UNIT) & (status <= Status.FLEX)
        age = people.age_m
        college = working & (people.edu == 2) & (age >= 22 * 12) & (age < 60 * 12)
        boost = np.where(np.isin(people.sector, KNOWLEDGE_SECTORS), 2.0, 1.0)

        junior = college & (people.title == 0) & (u < self.param("junior_title_rate") * boost)
        intermediate = working & (people.title == 1) & (age >= 28 * 12) & (u < self.param("intermediate_rate"))
        senior = working & (people.title == 2) & (age >= 35 * 12) & (u < self.param("senior_rate"))
        people.title[junior] = 1
        people.title[intermediate] = 2
        people.title[senior] = 3
        model.flows["junior_titles"] += int(np.count_nonzero(junior))
        model.flows["intermediate_titles"] += int(np.count_nonzero(intermediate))
        model.flows["senior_titles"] += int(np.count_nonzero(senior))

        qualifies = college & ~people.qualified & (self.uniform(month, "qualification") < self.param("qualification_rate"))
        people.qualified[qualifies] = True
        model.flows["qualifications"] += int(np.count_nonzero(qualifies))

        quota = model.policy.postdoc_quota
        if quota is None:
            quota = model.calibration.stocks("talent_flows.postdoc_recruitment")
        model.flows["postdocs"] += int(self.rng(month, "postdocs").poisson(quota / 12.0))
