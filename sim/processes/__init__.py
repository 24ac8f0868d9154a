"""The model's processes, in the order they run each month.

demography -> labour demand -> separations -> matching -> wages & minimum wage
-> funds -> social insurance -> training & certification -> professional talent
-> labour relations -> public services
(the indicators are recorded by the model after the last process).
"""

from ..table import Column
from .demography import Demography
from .funds import Funds
from .insurance import SocialInsurance
from .labour_demand import LabourDemand
from .labour_relations import LabourRelations
from .matching import Matching
from .public_services import PublicServices
from .separations import Separations
from .talent import Talent
from .training import Training
from .wages import Wages

STEP_ORDER = (
    Demography,
    LabourDemand,
    Separations,
    Matching,
    Wages,
    Funds,
    SocialInsurance,
    Training,
    Talent,
    LabourRelations,
    PublicServices,
)


def _merge(kind: str) -> dict[str, Column]:
    merged: dict[str, Column] = {}
    for process in STEP_ORDER:
        for name, column in getattr(process, kind).items():
            if name in merged:
                raise RuntimeError(f"column '{name}' declared twice ({process.__name__})")
            merged[name] = column
    return merged


def person_columns() -> dict[str, Column]:
    return _merge("person_columns")


def firm_columns() -> dict[str, Column]:
    return _merge("firm_columns")
