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


class PublicServices(Process):
    name = "public_services"
    person_columns = PERSON_COLUMNS
    flows = {"cards_issued": "social security cards issued", "ecard_adoptions": "electronic cards applied for"}

    def step(self, month: int) -> None:
        model, people = self.model, self.model.people
        alive = people.status != Status.ABSENT  # (cards of people who leave end in model.remove_people)
        u = self.uniform(month, "services")
        issued = alive & ~people.card & (u < self.param("card_issue_rate"))
        people.card[issued] = True
        model.flows["cards_issued"] += int(np.count_nonzero(issued))

        adopted = np.count_nonzero(people.ecard) / max(np.count_nonzero(alive), 1)
        base = (self.param("ecard_innovation") + self.param("ecard_imitation") * adopted) * model.policy.ecard_promotion
        by_year = (np.interp(np.arange(128), AGE_KNOTS, AGE_ADOPTION) * base).astype(np.float32)
        chance = by_year[people.age_m // 12] * np.where(people.urban, np.float32(1.2), np.float32(0.7))
        adopts = people.card & ~people.ecard & (self.uniform(month, "ecard") < chance)
        people.ecard[adopts] = True
        model.flows["ecard_adoptions"] += int(np.count_nonzero(adopts))
