"""Vietnamese number and date formats for the monthly report: a decimal comma, dots between
thousands (12.345.678), dd/mm/yyyy dates. The numbers come from the marts; these only write them."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from zoneinfo import ZoneInfo

from dichvucong.config import LOCAL_TZ

DASH = "–"  # no value (a null rate, a unit not scored on an indicator)


def number(value: Any, decimals: int = 0) -> str:
    """12345.678 -> '12.345,68' (decimals=2); None or NaN -> '–'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    text = f"{float(value):,.{decimals}f}" if decimals else f"{round(float(value)):,d}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def integer(value: Any) -> str:
    return number(value, 0)


def points(value: Any) -> str:
    """Points of the 766 index, two decimals as the portal shows them: '12,34'."""
    return number(value, 2)


def maximum(value: Any) -> str:
    """A maximum of the points table, without useless decimals: 20 -> '20', 2.5 -> '2,5'."""
    if value is None:
        return DASH
    return integer(value) if float(value).is_integer() else number(value, 1)


def signed_points(value: Any) -> str:
    if value is None:
        return DASH
    return ("+" if value > 0 else "−" if value < 0 else "±") + points(abs(value))


def rate(value: Any, decimals: int = 1) -> str:
    """A share 0..1 as a percentage: 0.8752 -> '87,5 %'."""
    return DASH if value is None else f"{number(float(value) * 100, decimals)} %"


def signed_rate(value: Any, decimals: int = 1) -> str:
    """A change of a share in percentage points: 0.0125 -> '+1,3 điểm %'."""
    if value is None:
        return DASH
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    return f"{sign}{number(abs(float(value)) * 100, decimals)} điểm %"


def vnd(value: Any) -> str:
    """An amount in đồng: 11234000 -> '11.234.000 ₫'; a negative one keeps its sign."""
    if value is None:
        return DASH
    return ("−" if value < 0 else "") + f"{integer(abs(value))} ₫"


def days(value: Any, decimals: int = 0) -> str:
    return DASH if value is None else f"{number(value, decimals)} ngày"


def date(value: dt.date | dt.datetime | None) -> str:
    return DASH if value is None else f"{value:%d/%m/%Y}"


def datetime(value: dt.datetime | None) -> str:
    """A local time as the marts hold it (naive), or an aware one shown in the province's time."""
    if value is None:
        return DASH
    if value.tzinfo is not None:
        value = value.astimezone(ZoneInfo(LOCAL_TZ))
    return f"{value:%H:%M %d/%m/%Y}"


def month(value: dt.date) -> str:
    return f"{value:%m/%Y}"


FILTERS = {"number": number, "integer": integer, "points": points, "maximum": maximum,
           "signed_points": signed_points, "rate": rate, "signed_rate": signed_rate, "vnd": vnd, "days": days,
           "date": date, "datetime": datetime, "month": month}
