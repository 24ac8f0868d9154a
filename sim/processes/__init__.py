"""The model's processes, in the order they run each month.

demography -> labour demand -> separations -> matching -> wages & minimum wage
(the indicators are recorded by the model after the last process).
"""

import numpy as np

from ..table import Column
from .demography import Demography
from .labour_demand import LabourDemand
from .matching import Matching
from .separations import Separations
from .wages import Wages

STEP_ORDER = (Demography, LabourDemand, Separations, Matching, Wages)

# Person columns whose 2020 stocks are built now and whose monthly dynamics
# belong to the social-insurance, training and public-service processes.
STOCK_COLUMNS = {
    "skill": Column(np.int8, 0, "skill-level certificate: 0 none, 1 junior ... 5 senior technician; >=3 high-skilled"),
    "title": Column(np.int8, 0, "professional-technical title: 0 none, 1 junior, 2 intermediate, 3 senior"),
    "pension_employee": Column(np.bool_, False, "contributes to the employee basic pension"),
    "pension_retiree": Column(np.bool_, False, "draws the employee basic pension"),
    "pension_resident": Column(np.bool_, False, "insured in the urban-rural resident pension"),
    "unemployment_insured": Column(np.bool_, False, "insured against unemployment"),
    "work_injury_insured": Column(np.bool_, False, "insured against work injury"),
    "card": Column(np.bool_, False, "holds a social security card"),
    "ecard": Column(np.bool_, False, "has applied for the electronic social security card"),
}


def _merge(kind: str) -> dict[str, Column]:
    merged: dict[str, Column] = {}
    for process in STEP_ORDER:
        for name, column in getattr(process, kind).items():
            if name in merged:
                raise RuntimeError(f"column '{name}' declared twice ({process.__name__})")
            merged[name] = column
    return merged


def person_columns() -> dict[str, Column]:
    return {**_merge("person_columns"), **STOCK_COLUMNS}


def firm_columns() -> dict[str, Column]:
    return _merge("firm_columns")
