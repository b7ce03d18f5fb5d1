"""3.x last-modified strings -> the 4.x ``@last-modified`` form (docs/formats/import-4x.md §3.4).

4.x accepts exactly six shapes: ``yyyy-MM-ddTHH:mm:ss`` (19 chars), with ``Z`` (20), with a
3-digit fraction (23/24) or a 7-digit fraction (27/28). Anything else faults the server's import.
The value is kept as ticks and written back with 7 fraction digits and a ``Z``. The server adds a
3-digit fraction as *ticks* (``.186`` -> ``.0000186``); ravenmigrate reads it as milliseconds
unless asked to reproduce the server (docs/deviations.md).
"""

from __future__ import annotations

LENGTHS = (19, 20, 23, 24, 27, 28)
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def is_date_time(year: int, month: int, day: int, hour: int, minute: int, second: int) -> bool:
    """Whether the fields name a moment of the proleptic Gregorian calendar .NET's DateTime accepts
    (years 1-9999; a 29 February only in leap years)."""
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return (1 <= year <= 9999 and 1 <= month <= 12 and hour < 24 and minute < 60 and second < 60
            and 1 <= day <= (29 if month == 2 and leap else _MONTH_DAYS[month - 1]))


def to_4x(value: str, fff_as_ticks: bool = False) -> str:
    """``2016-08-22T11:23:36.1861726`` -> ``2016-08-22T11:23:36.1861726Z``; ValueError if 4.x would reject it."""
    n = len(value)
    if n not in LENGTHS:
        raise ValueError(f"last-modified {value!r}: 4.x accepts only yyyy-MM-ddTHH:mm:ss[.fff|.fffffff][Z]")
    body = value[:-1] if n % 2 == 0 else value
    if n % 2 == 0 and value[-1] != "Z":
        raise ValueError(f"last-modified {value!r}: expected 'Z' at the end")
    base, fraction = body[:19], body[19:]
    if (len(base) != 19 or base[4] != "-" or base[7] != "-" or base[10] != "T" or base[13] != ":"
            or base[16] != ":" or not (base[:4] + base[5:7] + base[8:10] + base[11:13] + base[14:16]
                                       + base[17:19]).isdigit()):
        raise ValueError(f"last-modified {value!r}: expected yyyy-MM-ddTHH:mm:ss")
    if not is_date_time(int(base[:4]), int(base[5:7]), int(base[8:10]), int(base[11:13]), int(base[14:16]),
                        int(base[17:19])):
        raise ValueError(f"last-modified {value!r}: not a date and time of the calendar")
    if fraction:
        if fraction[0] != "." or not fraction[1:].isdigit() or not fraction[1:].isascii():
            raise ValueError(f"last-modified {value!r}: bad fraction")
        digits = fraction[1:]
        if len(digits) == 3:
            digits = digits.rjust(7, "0") if fff_as_ticks else digits.ljust(7, "0")
    else:
        digits = "0000000"
    return f"{base}.{digits}Z"


def is_fff(value: str) -> bool:
    """Whether *value* has the 3-digit fraction the server reads as ticks."""
    return len(value) in (23, 24)
