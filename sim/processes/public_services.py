"""Public services: social security cards and the electronic card.

Residents without a card (newborns, arrivals) are issued one at a monthly
rate.  The electronic card spreads among card holders as a Bass diffusion:
a monthly adoption chance of p + q x (share of residents who have adopted),
higher for the young and for urban residents, and multiplied by the
promotion effort in force.
"""

import numpy as np

from ..status import Status
from ..table import Column
from .base import Process

PERSON_COLUMNS = {
    "card": Column(np.bool_, False, "holds a social security card"),
    "ecard": Column(np.bool_, False, "has applied for the electronic social security card"),
}
AGE_KNOTS = np.array([0, 16, 30, 45, 60, 75, 90])
AGE_ADOPTION = np.array([0.0, 1.2, 1.5, 1.2, 0.7, 0.3, 0.1])  # relative e-card adoption by age (assumption)
URBAN_FACTOR, RURAL_FACTOR = 1.2, 0.7  # relative e-card adoption of urban and rural residents (assumption)


class PublicServices(Process):
    name = "public_services"
    person_columns = PERSON_COLUMNS
    flows = {"cards_issued": "social security cards issued", "ecard_adoptions": "electronic cards applied for"}

    def step(self, month: int) -> None:
        model, people = self.model, self.model.people
        # (Cards of people who leave end in model.remove_people.)  Only rows
        # whose draw is below the monthly chance can change: test those alone.
        # The search keeps the candidates without a card (grouped by the card
        # flag), so the few rows that may get one are listed, not all the rest.
        rate = self.param("card_issue_rate")
        idx, _ = model.streams.rows_below(self.name, month, "services", people.n, rate,
                                          by=people.card.view(np.int8), chances={0: rate})
        issued = idx[(people.status[idx] != Status.ABSENT) & ~people.card[idx]]
        people.card[issued] = True
        model.flows["cards_issued"] += len(issued)

        adopted = np.count_nonzero(people.ecard) / max(np.count_nonzero(people.status), 1)  # ABSENT is 0
        base = (self.param("ecard_innovation") + self.param("ecard_imitation") * adopted) * model.policy.ecard_promotion
        by_year = np.interp(np.arange(128), AGE_KNOTS, AGE_ADOPTION) * base
        idx, u = model.streams.rows_below(self.name, month, "ecard", people.n, by_year.max() * URBAN_FACTOR)
        chance = by_year[people.age_m[idx] // 12] * np.where(people.urban[idx], URBAN_FACTOR, RURAL_FACTOR)
        adopts = idx[people.card[idx] & ~people.ecard[idx] & (u < chance)]
        people.ecard[adopts] = True
        model.flows["ecard_adoptions"] += len(adopts)
