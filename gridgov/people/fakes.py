"""Generators of obviously fake but well-formed personal data, for tests and the demo.

Every function takes a ``random.Random`` and is deterministic given its state, so a
seeded demo is the same on every machine. The values pass the real validators (a
national ID with a correct GB 11643-1999 check character, a mainland mobile number) but
are plainly made up: given names are the placeholder characters 甲乙丙丁… that Chinese
documents use for "party A, party B", and mobile numbers have ``0000`` in the middle.
"""

from __future__ import annotations

import datetime as dt
import random

from gridgov.people.choices import Sex
from gridgov.people.validators import national_id_check_char

#: The most common surnames (Ministry of Public Security household-registration
#: statistics), enough for variety.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
    "许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
#: Placeholder given-name characters: the ten heavenly stems, used in documents for
#: "party A, B, C…", so that a fake name never reads as a real person.
PLACEHOLDER_GIVEN = "甲乙丙丁戊己庚辛壬癸"

#: Mobile network prefixes (MIIT numbering plan; 13x–19x).
MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "170",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "184",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
]

COMPOUNDS = ("演示新村", "示例花园", "样板小区", "测试家园", "模拟苑")


def fake_name(rng: random.Random) -> str:
    """Return a fake Chinese name: a common surname and one or two placeholder characters
    (``王甲``, ``李丙戊``)."""
    given_len = 1 if rng.random() < 0.3 else 2
    return rng.choice(SURNAMES) + "".join(rng.choice(PLACEHOLDER_GIVEN) for _ in range(given_len))


def fake_mobile(rng: random.Random) -> str:
    """Return a fake mainland mobile number: a real network prefix, ``0000``, 4 digits
    (``13800001234``); it passes ``validators.normalize_phone``."""
    return f"{rng.choice(MOBILE_PREFIXES)}0000{rng.randrange(10_000):04d}"


def fake_landline(rng: random.Random, *, area_code: str = "0571") -> str:
    """Return a fake landline, ``<area_code>-8000xxxx``."""
    return f"{area_code}-8000{rng.randrange(10_000):04d}"


def fake_birth_date(
    rng: random.Random, *, today: dt.date, min_age: int = 0, max_age: int = 95
) -> dt.date:
    """Return a birth date giving an age in ``[min_age, max_age]`` years on ``today``."""
    start = _years_before(today, max_age + 1) + dt.timedelta(days=1)
    end = _years_before(today, min_age)
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a non-leap year
        return day.replace(year=day.year - years, day=28)


def fake_sex(rng: random.Random) -> str:
    """Return a ``Sex`` value, evenly."""
    return rng.choice([Sex.MALE, Sex.FEMALE]).value


def fake_national_id(
    rng: random.Random,
    *,
    birth_date: dt.date,
    region_code: str = "330106",
    sex: str | None = None,
) -> str:
    """Return a well-formed 18-character national ID number (GB 11643-1999).

    ``region_code``: a 6-digit GB/T 2260 code (default 330106, Xihu district, Hangzhou);
    ``sex``: a ``Sex`` value (the sequence's last digit is odd for men); random if None.
    The check character is computed by ISO 7064 MOD 11-2.
    """
    if len(region_code) != 6 or not region_code.isdigit():
        raise ValueError(f"region code must be 6 digits, got {region_code!r}")
    sex = sex or fake_sex(rng)
    sequence = rng.randrange(100) * 10 + rng.choice(
        (1, 3, 5, 7, 9) if sex == Sex.MALE else (0, 2, 4, 6, 8)
    )
    first17 = f"{region_code}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + national_id_check_char(first17)


def fake_flat_address(rng: random.Random, *, compound: str | None = None) -> str:
    """Return a fake flat address, ``<compound><n>幢<u>单元<floor><room>室``."""
    compound = compound or rng.choice(COMPOUNDS)
    building = rng.randint(1, 30)
    unit = rng.randint(1, 4)
    floor = rng.randint(1, 18)
    room = rng.randint(1, 4)
    return f"{compound}{building}幢{unit}单元{floor}{room:02d}室"
