"""Calendar months as integers.

A month is stored as `year * 12 + (month - 1)`, so arithmetic is plain integer
arithmetic and `month // 12` is the year.  Strings use the `YYYY-MM` form of
the output tables.
"""

import re

_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")  # ASCII digits only (not full-width ones)


def parse_month(text: str) -> int:
    """'2021-01' -> month index; raises ValueError on anything else."""
    match = _MONTH.match(text) if isinstance(text, str) else None
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"'{text}' is not a month of the form YYYY-MM")
    return int(match.group(1)) * 12 + int(match.group(2)) - 1


def format_month(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def year_of(index: int) -> int:
    return index // 12


def calendar_month(index: int) -> int:
    """1..12"""
    return index % 12 + 1


BASELINE_MONTH = parse_month("2020-12")  # the synthetic population's date: the end of 2020
