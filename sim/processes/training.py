"""Skills training and certification, delivered by training-provider agents.

Training providers (technical schools, public training bases, private
trainers) are `mesa.Agent`s with a monthly capacity, the highest skill level
they teach, an assessment pass rate and a capacity response to the subsidy
rate (private trainers expand most when subsidies rise).  Each month workers and job seekers of
working age enrol with a probability that rises with the training subsidy
(job seekers and certificate holders train more); enrolments beyond the total
capacity are turned away.  Each trainee takes the course for the next skill
level at a provider that teaches it (chosen in proportion to capacity) and
passes its assessment with the provider's pass rate: a pass is a new
vocational certificate (skill levels 1 junior .. 5 senior technician; level 3,
senior worker, and above is high-skilled).
"""

import mesa
import numba
import numpy as np

from ..kernels import block, block_count, deal_stride, dealt, sized_pass
from ..status import Status
from ..table import Column
from ..timeline import parse_month
from .base import Process

PERSON_COLUMNS = {
    "skill": Column(np.int8, 0, "skill-level certificate: 0 none, 1 junior ... 5 senior technician; >=3 high-skilled"),
}
KINDS = ("technical_school", "public_training_base", "private_trainer")
HIGH_SKILL_LEVEL = 3
# Skill evaluation handed to employers: 人社部发〔2019〕90号 (2019-08) moved
# skill levels from state qualification to employers' and social bodies'
# assessment, 人社厅发〔2020〕104号 (2020-12) asked for employer assessment
# at scale, and 人社部发〔2022〕14号 (2022-03) extended it to the new
# eight-grade ladder.  Zhejiang pioneered employer self-assessment
# (chinajob.mohrss.gov.cn, 2021-03-29).  From this month the recognition rate
# is multiplied by `training.recognition_reform_factor`.
SKILL_EVALUATION_REFORM = "2021-01"


PROVIDER_FIELDS = {
    "kind": "index in KINDS",
    "capacity": "trainee rows per month at the 2020 subsidy",
    "max_level": "highest skill level taught",
    "pass_rate": "share of trainees who pass the assessment",
    "subsidy_response": "capacity change per unit change of the subsidy rate",
    "trained": "trainee rows so far",
    "passed": "trainee rows who passed so far",
}


def _provider_field(name: str) -> property:
    return property(lambda self: self._arrays[name][self._row].item(), doc=PROVIDER_FIELDS[name])


class TrainingProvider(mesa.Agent):
    """A technical school, public training base or private trainer.

    Its attributes are its row of the training process's provider arrays
    (`PROVIDER_FIELDS`), so the monthly step works on whole arrays and never
    loops over the providers."""

    def __init__(self, model, arrays: dict[str, np.ndarray], row: int):
        super().__init__(model)
        self._arrays, self._row = arrays, row

    kind = _provider_field("kind")
    capacity = _provider_field("capacity")
    max_level = _provider_field("max_level")
    pass_rate = _provider_field("pass_rate")
    subsidy_response = _provider_field("subsidy_response")
    trained = _provider_field("trained")
    passed = _provider_field("passed")


def create_providers(model, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], list[TrainingProvider]]:
    """Providers of each kind with log-normal capacities summing to the 2020
    volume plus spare capacity: their arrays (PROVIDER_FIELDS) and their agents."""
    stocks, params = model.calibration.stocks, model.calibration.params
    counts = stocks("training.providers").astype(int)
    shares = stocks("training.capacity_share")
    total = stocks("training.person_times") * params("training.spare_capacity") / 12.0 / model.scale
    kind = np.repeat(np.arange(len(counts)), counts)
    capacity = np.empty(len(kind))
    for k, (count, share) in enumerate(zip(counts, shares)):
        sizes = rng.lognormal(0.0, 0.8, count)
        capacity[kind == k] = sizes / sizes.sum() * share * total
    arrays = {
        "kind": kind,
        "capacity": capacity,
        "max_level": stocks("training.provider_max_level").astype(np.int64)[kind],
        "pass_rate": np.asarray(params("training.pass_rate"), dtype=np.float64)[kind],
        "subsidy_response": np.asarray(params("training.subsidy_capacity_response"), dtype=np.float64)[kind],
        "trained": np.zeros(len(kind), dtype=np.int64),
        "passed": np.zeros(len(kind), dtype=np.int64),
    }
    return arrays, [TrainingProvider(model, arrays, row) for row in range(len(kind))]


def recognised(status: np.ndarray, age_m: np.ndarray, skill: np.ndarray, u: np.ndarray, rate: float) -> np.ndarray:
    """Which rows are recognised as skilled this month: uncertified unit
    employees of working age whose draw is below the monthly rate."""
    return (status == Status.UNIT) & (skill == 0) & (age_m >= 16 * 12) & (age_m < 60 * 12) & (u < rate)


@numba.njit(cache=True)
def _would_be_trainees(idx, u, status, age_m, skill, level_weight, unemployed_weight, rate) -> np.ndarray:
    """The candidates idx (with their draws u) who enrol: people of working
    age at work or seeking, below the top level, whose draw is below `rate`
    times their weight (the level's, times `unemployed_weight` for job
    seekers).  One loop over the candidates instead of a dozen numpy passes
    over them; the same float64 products and comparisons, so the same rows."""
    out = np.empty(len(idx), dtype=np.int64)
    k = 0
    for j in range(len(idx)):
        row = idx[j]
        s, age, level = status[row], age_m[row], skill[row]
        if (age >= 16 * 12) & (age < 60 * 12) & (level < 5) & (s >= Status.UNIT) & (s <= Status.UNEMP):
            weight = (unemployed_weight if s == Status.UNEMP else 1.0) * level_weight[level]
            if u[j] < rate * weight:
                out[k] = row
                k += 1
    return out[:k]


@sized_pass(ns_per_row=2.5)
@numba.njit(cache=True, parallel=True)
def _eligible_groups(status, age_m, skill) -> np.ndarray:
    """Working-age people who may train (at work or seeking, below the top
    level), counted by group: skill level 0..4 at work, then 0..4 seeking.
    Blocks of rows are counted in parallel, then summed."""
    n = len(status)
    blocks = block_count(n)
    by_block = np.zeros((blocks, 10), dtype=np.int64)
    stride = deal_stride(blocks)
    for t in numba.prange(blocks):
        b = dealt(t, stride, blocks)  # blocks dealt to threads (sim.kernels)
        lo, hi = block(b, n)  # views of the block, indexed from 0 (sim.kernels)
        status_b, age_b, skill_b = status[lo:hi], age_m[lo:hi], skill[lo:hi]
        # One counter per group in a register: incrementing by_block[b, group]
        # row after row chains each row's store to the next row's load.
        w0 = w1 = w2 = w3 = w4 = s0 = s1 = s2 = s3 = s4 = np.int32(0)
        for i in range(hi - lo):
            s, level, age = status_b[i], skill_b[i], age_b[i]
            eligible = np.int32((s >= Status.UNIT) & (s <= Status.UNEMP) & (age >= 16 * 12) & (age < 60 * 12))
            seeking = np.int32(s == Status.UNEMP)
            work, seek = eligible & (1 - seeking), eligible & seeking
            w0 += work & np.int32(level == 0)
            w1 += work & np.int32(level == 1)
            w2 += work & np.int32(level == 2)
            w3 += work & np.int32(level == 3)
            w4 += work & np.int32(level == 4)
            s0 += seek & np.int32(level == 0)
            s1 += seek & np.int32(level == 1)
            s2 += seek & np.int32(level == 2)
            s3 += seek & np.int32(level == 3)
            s4 += seek & np.int32(level == 4)
        row = by_block[b]
        row[0], row[1], row[2], row[3], row[4] = w0, w1, w2, w3, w4
        row[5], row[6], row[7], row[8], row[9] = s0, s1, s2, s3, s4
    return by_block.sum(axis=0)


class Training(Process):
    name = "training"
    person_columns = PERSON_COLUMNS
    flows = {
        "training_person_times": "enrolments on skills courses",
        "training_turned_away": "would-be trainees beyond the providers' capacity",
        "certificates": "new vocational qualification or skill-level certificates",
        "skill_recognitions": "unit employees recognised as skilled in their post without a new certificate",
        "senior_certificates": "new certificates at senior-worker level or above",
    }

    def __init__(self, model):
        super().__init__(model)
        self.provider_arrays, self.providers = create_providers(model, model.streams.generator(self.name, 0, "providers"))

    def step(self, month: int) -> None:
        model, people = self.model, self.model.people
        subsidy = model.policy.training_subsidy_rate
        if subsidy is None:
            subsidy = self.param("subsidy_rate")
        rate = self.param("take_up") * model.policy.training_volume * (
            1.0 + self.param("subsidy_elasticity") * (subsidy - self.param("subsidy_rate")))
        level_weight = self.param("level_weight") * np.where(np.arange(5) >= 2, model.policy.high_skill_training, 1.0)
        # Only rows whose draw is below the largest chance can enrol: test those.
        idx, u = model.streams.rows_below(self.name, month, "enrol", people.n,
                                          rate * level_weight.max() * max(self.param("unemployed_weight"), 1.0))
        trainees = _would_be_trainees(idx, u, people.status, people.age_m, people.skill,
                                      np.asarray(level_weight, dtype=np.float64),
                                      float(self.param("unemployed_weight")), float(rate))

        providers = self.provider_arrays
        response = providers["subsidy_response"]
        capacity = (providers["capacity"] * model.policy.training_capacity
                    * np.maximum(1.0 + response * (subsidy - self.param("subsidy_rate")), 0.0))
        rng = self.rng(month, "courses")
        # Rationing: when the expected enrolments exceed the capacity, each
        # would-be trainee gets a place with chance capacity / expected.  (A
        # hard cap on the drawn enrolments would turn more people away, the
        # noisier the draw, i.e. the coarser the scale.)
        admitted = min(1.0, float(capacity.sum()) / max(self._expected_enrolments(rate, level_weight), 1e-9))
        if admitted < 1.0:
            placed = rng.random(len(trainees)) < admitted
            model.flows["training_turned_away"] += int(np.count_nonzero(~placed))
            trainees = trainees[placed]
        model.flows["training_person_times"] += len(trainees)

        level = people.skill[trainees] + 1
        max_level, pass_rate = providers["max_level"], providers["pass_rate"]
        provider = np.empty(len(trainees), dtype=np.int64)
        for course in np.unique(level):  # at most five levels
            takers = np.flatnonzero(level == course)
            offer = np.where(max_level >= course, capacity, 0.0)
            if offer.sum() == 0:
                provider[takers] = -1
                continue
            cdf = np.cumsum(offer) / offer.sum()
            provider[takers] = np.minimum(np.searchsorted(cdf, rng.random(len(takers)), side="right"), len(cdf) - 1)
        taught = provider >= 0
        passes = taught & (rng.random(len(trainees)) < np.where(taught, pass_rate[provider], 0.0))
        people.skill[trainees[passes]] = level[passes]
        model.flows["certificates"] += int(np.count_nonzero(passes))
        model.flows["senior_certificates"] += int(np.count_nonzero(passes & (level >= HIGH_SKILL_LEVEL)))

        self._recognise_incumbents(month)

        providers["trained"] += np.bincount(provider[taught], minlength=len(max_level))
        providers["passed"] += np.bincount(provider[passes], minlength=len(max_level))

    def _recognise_incumbents(self, month: int) -> None:
        """Skilled talent counts workers in skilled posts at an equivalent level,
        not only certificate holders, and since the skill-level reform employers
        assess their own workers: uncertified unit employees are recognised at
        junior level at a monthly rate, without a course or a certificate.

        Answers to the published skilled-talent stock (1013万 at end-2020, 1195万
        at end-2022, calibration/observed.csv).  The rate before 2021 is fitted
        to the 2016-2020 growth (sim/fit.py).  From 2021-01, when employers'
        assessment was rolled out at scale (SKILL_EVALUATION_REFORM), it is
        multiplied by `recognition_reform_factor`: the stock grew about 90万 a
        year in 2021-2022 against about 63万 in 2016-2020, while new
        certificates stayed near 45万 a year (67.3万 in 2021-01..2022-06), so
        the growth came from recognition in post, not from courses."""
        rate = self.param("incumbent_recognition_rate")
        if month >= parse_month(SKILL_EVALUATION_REFORM):
            rate *= self.param("recognition_reform_factor")
        people = self.model.people
        idx, u = self.model.streams.rows_below(self.name, month, "recognition", people.n, rate, people.status,
                                               {Status.UNIT: rate})
        chosen = idx[recognised(people.status[idx], people.age_m[idx], people.skill[idx], u, rate)]
        people.skill[chosen] = 1
        self.model.flows["skill_recognitions"] += len(chosen)

    def _expected_enrolments(self, rate: float, level_weight: np.ndarray) -> float:
        """Expected would-be trainees this month: the sum of every eligible
        person's chance of enrolling (job seekers and each skill level apart)."""
        people = self.model.people
        groups = _eligible_groups(people.status, people.age_m, people.skill)
        chance = np.minimum(rate * np.concatenate([level_weight, self.param("unemployed_weight") * level_weight]), 1.0)
        return float(groups @ chance)
