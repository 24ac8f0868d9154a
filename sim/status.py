"""Labour status codes of the `status` person column (int8)."""

from enum import IntEnum


class Status(IntEnum):
    ABSENT = 0  # row no longer in the province: died or moved away
    SCHOOL = 1  # children and full-time students
    UNIT = 2  # employee of a unit (enterprise or public body): has a firm
    SELF = 3  # self-employed: individual business owner or farmer
    FLEX = 4  # flexible or platform work
    UNEMP = 5  # without work, looking for work and available (ILO)
    INACTIVE = 6  # working age, out of the labour force
    RETIRED = 7  # past the statutory age and out of the labour force


EMPLOYED = (Status.UNIT, Status.SELF, Status.FLEX)


def is_employed(status):
    """Employed (unit, self-employed or flexible): the codes 2..4, one comparison pair."""
    return (status >= Status.UNIT) & (status <= Status.FLEX)

SECTORS = (
    "agriculture",
    "manufacturing",
    "construction",
    "trade_logistics_hospitality",
    "business_services",
    "public_services",
)
PUBLIC_SECTOR = SECTORS.index("public_services")
