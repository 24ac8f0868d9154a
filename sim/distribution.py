"""Who gains: the wage distribution, the minimum wage's bite and employment by group.

Taken once a year, from the December state (and the end-2020 baseline), for
two populations: urban unit employees (城镇单位就业人员, the population of the
average-wage bulletins) and all employed (unit employees, the self-employed and
flexible workers, whose `wage` is their work income).

One compiled pass bins every wage on a log scale (bins 0.2% wide from 50 to
1,000,000 yuan a month; below and above in a bin each) and counts the minimum
wage's bite and employment by group.  Quantiles, shares and the Gini are read
from the bins: within a bin wages are taken as spread evenly in log wage, and
each bin's wages are summed exactly (in fen), so a quantile is within 0.2% of
the exact sample quantile and the Gini within about 0.001 (tested against
numpy).

Definitions (each indicator repeats its own):

* quantiles P10-P90 of the monthly wage, their ratios P90/P10 and P50/P10;
* the Gini coefficient of wages;
* low pay: the share earning less than two-thirds of the median (the OECD's
  low-pay threshold, OECD Employment Outlook);
* the middle band: the share earning 75% to 200% of the median, the OECD's
  middle-income band applied to wages (OECD 2019, "Under Pressure: The
  Squeezed Middle Class", chapter 1);
* the minimum wage's bite: the share of urban unit employees paid at most 5%
  above the minimum of their tier, overall, by tier and by sector;
* the Kaitz index: the tier-1 minimum over the median wage of urban unit
  employees;
* employment and mean work income by group, in four partitions of the
  employed (age, registration, residence, education): each partition's groups
  add up to all employed, so the groups' paired differences add up to the
  total effect.
"""

import numba
import numpy as np

from .status import SECTORS, Status

LOG_LOW, LOG_HIGH, BIN_WIDTH = float(np.log(50.0)), float(np.log(1e6)), 0.002
INNER_BINS = int(np.ceil((LOG_HIGH - LOG_LOW) / BIN_WIDTH))
BINS = INNER_BINS + 2  # bin 0: below 50 yuan (incl. no income); last bin: 1,000,000 and above
NEAR_MINIMUM = 1.05  # "at or within 5% of the minimum"
LOW_PAY, MIDDLE_LOW, MIDDLE_HIGH = 2.0 / 3.0, 0.75, 2.0
QUANTILES = (10, 25, 50, 75, 90)
TIERS = 4
POPULATIONS = {"unit": "urban unit employees", "employed": "all employed"}

# Partitions of the employed: (dimension, group ids in code order, labels, Chinese labels).
AGE_BANDS_M = (30 * 12, 50 * 12)  # young below 30, prime 30-49, older 50+
GROUPS = (
    ("age", ("young", "prime_age", "older"), ("aged 16-29", "aged 30-49", "aged 50 and over"),
     ("16-29岁", "30-49岁", "50岁及以上")),
    ("registration", ("migrant", "local"), ("registered in another province (migrant)", "registered in Zhejiang"),
     ("省外户籍", "本省户籍")),
    ("residence", ("rural", "urban"), ("living in a rural area", "living in an urban area"), ("乡村", "城镇")),
    ("education", ("low_education", "secondary_education", "college"),
     ("junior secondary or less", "senior secondary", "college or more"), ("初中及以下", "高中", "大专及以上")),
)
GROUP_IDS = tuple(group for _, ids, _, _ in GROUPS for group in ids)
DIMENSION_OF = {group: dimension for dimension, ids, _, _ in GROUPS for group in ids}
LABELS = {group: label for _, ids, labels, _ in GROUPS for group, label in zip(ids, labels)}
# The pass below writes the groups at fixed positions: age 0-2, registration 3-4, residence 5-6, education 7-9.
assert GROUP_IDS == ("young", "prime_age", "older", "migrant", "local", "rural", "urban", "low_education",
                     "secondary_education", "college")


@numba.njit(cache=True)
def _snapshot(status, urban, age_m, local, edu, tier, sector, wage, minimum):
    """The December pass: log-wage bins of both populations (counts and sums in
    fen), the bite's counts by tier and sector, and employment and income by
    group (GROUP_IDS order).  Serial: it runs once a year, and a parallel
    kernel would double its compile time (about 4 s more in a fresh checkout)."""
    counts = np.zeros((2, BINS), dtype=np.int64)
    sums = np.zeros((2, BINS), dtype=np.int64)
    near = np.zeros((2, TIERS + len(SECTORS)), dtype=np.int64)  # [0]: near the minimum, [1]: all
    groups = np.zeros((2, len(GROUP_IDS)), dtype=np.int64)  # [0]: employed, [1]: income in fen
    for i in range(len(status)):
        st = status[i]
        if (st < Status.UNIT) | (st > Status.FLEX):
            continue
        w = wage[i]
        fen = np.int64(w * np.float32(100.0) + np.float32(0.5))
        if w < 50.0:
            b = 0
        else:
            b = min(int((np.log(w) - LOG_LOW) / BIN_WIDTH) + 1, BINS - 1)
        counts[1, b] += 1
        sums[1, b] += fen
        if (st == Status.UNIT) & urban[i]:
            counts[0, b] += 1
            sums[0, b] += fen
            t = tier[i]
            close = w <= NEAR_MINIMUM * minimum[t]
            near[0, t] += close
            near[1, t] += 1
            if sector[i] >= 0:
                near[0, TIERS + sector[i]] += close
                near[1, TIERS + sector[i]] += 1
        a = age_m[i]
        age_group = 0 if a < AGE_BANDS_M[0] else (1 if a < AGE_BANDS_M[1] else 2)
        for k in (age_group, 3 + np.int64(local[i]), 5 + np.int64(urban[i]), 7 + np.int64(edu[i])):
            groups[0, k] += 1  # age 0-2; registration 3 migrant, 4 local; residence 5 rural, 6 urban; education 7-9
            groups[1, k] += fen
    return counts, sums, near, groups


def quantile(counts: np.ndarray, sums: np.ndarray, q: float) -> float:
    """The q-quantile (0-1) of the binned wages: linear in log wage within the
    bin that holds it; in the outer bins, that bin's mean."""
    total = counts.sum()
    if total == 0:
        return float("nan")
    cumulative = np.cumsum(counts)
    target = q * total
    b = int(np.searchsorted(cumulative, target, side="left"))
    if b == 0 or b == BINS - 1:
        return float(sums[b] / counts[b] / 100.0)
    before = cumulative[b - 1]
    fraction = (target - before) / counts[b]
    return float(np.exp(LOG_LOW + BIN_WIDTH * (b - 1 + fraction)))


def share_below(counts: np.ndarray, wage: float) -> float:
    """Share of the binned wages below `wage` (linear in log wage within its bin)."""
    total = counts.sum()
    if total == 0 or wage <= 0:
        return float("nan") if total == 0 else 0.0
    position = (np.log(wage) - LOG_LOW) / BIN_WIDTH  # in inner bins
    if position < 0:
        return float(counts[0] / total)
    whole = min(int(position), INNER_BINS)
    below = counts[: whole + 1].sum()  # the outer low bin and the whole inner bins below
    if whole < INNER_BINS:
        below += (position - whole) * counts[whole + 1]
    return float(below / total)


def gini(counts: np.ndarray, sums: np.ndarray) -> float:
    """Gini coefficient from the binned wages, ordered by bin, each bin's
    income exact (within-bin inequality, at 0.2% bins, is negligible):
    1 - sum over bins of (population share) x (L before + L after)."""
    total, income = counts.sum(), sums.sum()
    if total == 0 or income == 0:
        return float("nan")
    lorenz = np.concatenate([[0.0], np.cumsum(sums) / income])
    return float(1.0 - np.sum(counts / total * (lorenz[:-1] + lorenz[1:])))


def snapshot_parts(model) -> dict[str, float]:
    """The December parts of the indicators below (`model.month` is a December
    or the baseline)."""
    people = model.people
    counts, sums, near, groups = _snapshot(people.status, people.urban, people.age_m, people.local, people.edu,
                                           people.tier, people.sector, people.wage,
                                           np.asarray(model.minimum_wage, dtype=np.float32))
    parts: dict[str, float] = {}
    for p, name in enumerate(POPULATIONS):
        c, s = counts[p], sums[p]
        values = {q: quantile(c, s, q / 100.0) for q in QUANTILES}
        for q, value in values.items():
            parts[f"wage_p{q}_{name}"] = value
        median = values[50]
        parts[f"wage_gini_{name}"] = gini(c, s)
        parts[f"low_pay_{name}"] = share_below(c, LOW_PAY * median)
        parts[f"middle_band_{name}"] = share_below(c, MIDDLE_HIGH * median) - share_below(c, MIDDLE_LOW * median)
    parts["near_minimum"], parts["unit_employees_urban"] = float(near[0, :TIERS].sum()), float(near[1, :TIERS].sum())
    for t in range(TIERS):
        parts[f"near_minimum_tier{t + 1}"], parts[f"unit_employees_tier{t + 1}"] = float(near[0, t]), float(near[1, t])
    for k, sector in enumerate(SECTORS):
        parts[f"near_minimum_{sector}"] = float(near[0, TIERS + k])
        parts[f"unit_employees_{sector}"] = float(near[1, TIERS + k])
    for k, group in enumerate(GROUP_IDS):
        parts[f"employed_{group}"] = float(groups[0, k])
        parts[f"income_{group}"] = groups[1, k] / 100.0  # yuan a month, summed over rows
    return parts


# -- indicators ------------------------------------------------------------------
# (id, unit, kind, definition, value of a December's parts); every value is NaN
# in other months, so these indicators are yearly (the December snapshot).
NAN = float("nan")
SECTOR_NAMES = {"agriculture": "agriculture", "manufacturing": "manufacturing", "construction": "construction",
                "trade_logistics_hospitality": "trade, logistics and hospitality",
                "business_services": "business services (IT, finance, professional)",
                "public_services": "public services"}
SECTOR_NAMES_ZH = {"agriculture": "农业", "manufacturing": "制造业", "construction": "建筑业",
                   "trade_logistics_hospitality": "批发零售、交通物流和住宿餐饮", "business_services": "商务服务（信息、金融、专业）",
                   "public_services": "公共服务"}


def _part(key: str, factor: float = 1.0):
    return lambda p: p.get(key, NAN) * factor


def _ratio(numerator: str, denominator: str, factor: float = 1.0):
    def value(p):
        low = p.get(denominator, NAN)
        return p.get(numerator, NAN) / low * factor if low else NAN
    return value


def _definitions() -> list[tuple[str, str, str, str, str, str, object]]:
    """(id, name_zh, name_en, unit, kind, definition, value)."""
    rows = []
    for name, who in POPULATIONS.items():
        zh = "城镇单位就业人员" if name == "unit" else "全部就业人员"
        for q in QUANTILES:
            rows.append((f"wage_p{q}_{name}", f"{zh}工资P{q}", f"Wage P{q}, {who}", "yuan per month", "rate",
                         f"The {q}th percentile of the monthly wage (work income) of {who} in December.",
                         _part(f"wage_p{q}_{name}")))
        rows.append((f"wage_p90_p10_{name}", f"{zh}工资P90/P10", f"Wage P90/P10, {who}", "ratio", "rate",
                     f"The 90th over the 10th percentile of the monthly wage of {who} in December.",
                     _ratio(f"wage_p90_{name}", f"wage_p10_{name}")))
        rows.append((f"wage_p50_p10_{name}", f"{zh}工资P50/P10", f"Wage P50/P10, {who}", "ratio", "rate",
                     f"The median over the 10th percentile of the monthly wage of {who} in December.",
                     _ratio(f"wage_p50_{name}", f"wage_p10_{name}")))
        rows.append((f"wage_gini_{name}", f"{zh}工资基尼系数", f"Wage Gini, {who}", "ratio", "rate",
                     f"Gini coefficient of the monthly wages of {who} in December (0: all equal, 1: one earns all).",
                     _part(f"wage_gini_{name}")))
        rows.append((f"low_pay_share_{name}", f"{zh}低收入比重", f"Low pay, {who}", "%", "rate",
                     f"Share of {who} earning less than two-thirds of their median wage in December (the OECD's "
                     "low-pay threshold).", _part(f"low_pay_{name}", 100.0)))
        rows.append((f"middle_band_share_{name}", f"{zh}中等收入比重", f"Middle band, {who}", "%", "rate",
                     f"Share of {who} earning 75% to 200% of their median wage in December: the OECD's middle-income "
                     "band (OECD 2019, Under Pressure: The Squeezed Middle Class) applied to wages. Not the plan's "
                     "middle-income households (annual household disposable income of 100,000-500,000 yuan), which "
                     "the model does not hold.", _part(f"middle_band_{name}", 100.0)))
    rows.append(("minimum_wage_bite", "最低工资覆盖比重", "Minimum wage bite", "%", "rate",
                 "Share of urban unit employees paid at most 5% above the minimum wage of their tier, in December.",
                 _ratio("near_minimum", "unit_employees_urban", 100.0)))
    for t in range(1, TIERS + 1):
        rows.append((f"minimum_wage_bite_tier{t}", f"最低工资覆盖比重（第{t}档）", f"Minimum wage bite, tier {t}", "%",
                     "rate", f"Share of urban unit employees in tier-{t} areas paid at most 5% above the tier's minimum "
                     "wage, in December.", _ratio(f"near_minimum_tier{t}", f"unit_employees_tier{t}", 100.0)))
    for sector in SECTORS:
        rows.append((f"minimum_wage_bite_{sector}", f"最低工资覆盖比重（{SECTOR_NAMES_ZH[sector]}）",
                     f"Minimum wage bite, {SECTOR_NAMES[sector]}", "%", "rate",
                     f"Share of urban unit employees in {SECTOR_NAMES[sector]} paid at most 5% above the minimum wage "
                     "of their tier, in December.",
                     _ratio(f"near_minimum_{sector}", f"unit_employees_{sector}", 100.0)))
    rows.append(("kaitz_index", "最低工资与工资中位数之比", "Kaitz index", "%", "rate",
                 "The tier-1 monthly minimum wage over the median monthly wage of urban unit employees, in December.",
                 _ratio("minimum_wage", "wage_p50_unit", 100.0)))
    labels = {group: label for _, ids, names, _ in GROUPS for group, label in zip(ids, names)}
    labels_zh = {group: label for _, ids, _, names in GROUPS for group, label in zip(ids, names)}
    for dimension, ids, _, _ in GROUPS:
        for group in ids:
            rows.append((f"employed_{group}", f"就业人员（{labels_zh[group]}）", f"Employed, {labels[group]}", "10k persons", "stock",
                         f"Employed persons {labels[group]} (partition by {dimension}: its groups add up to all "
                         "employed), in December.",
                         lambda p, key=f"employed_{group}": p.get(key, NAN) * p["scale"] / 1e4))
            rows.append((f"income_{group}", f"平均劳动收入（{labels_zh[group]}）", f"Mean work income, employed {labels[group]}",
                         "yuan per month", "rate",
                         f"Mean monthly wage or work income of the employed {labels[group]}, in December.",
                         _ratio(f"income_{group}", f"employed_{group}")))
    return rows


DEFINITIONS = _definitions()
NAMES = {row[0]: (row[1], row[2]) for row in DEFINITIONS}
