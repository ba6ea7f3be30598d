"""National ID and phone validation, and the fake-data generators that must pass it."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from gridgov.core.errors import ValidationFailed
from gridgov.people import fakes
from gridgov.people.choices import Sex
from gridgov.people.validators import (
    national_id_check_char,
    normalize_phone,
    parse_national_id,
)

# The worked example of GB 11643-1999 Appendix A (and countless textbooks):
# 11010519491231002X — Beijing Chaoyang, born 1949-12-31, female, check character X.
STANDARD_EXAMPLE = "11010519491231002X"


def test_it_computes_the_check_character_of_the_standards_example() -> None:
    assert national_id_check_char(STANDARD_EXAMPLE[:17]) == "X"
    assert national_id_check_char("44052418800101001") == "4"  # 440524188001010014


def test_it_parses_a_valid_number_into_its_parts() -> None:
    parsed = parse_national_id(STANDARD_EXAMPLE.lower())
    assert parsed.number == STANDARD_EXAMPLE
    assert parsed.region_code == "110105"
    assert parsed.birth_date == dt.date(1949, 12, 31)
    assert parsed.sex == Sex.FEMALE


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("11010519491231002", "must have 18 characters, not 17"),
        ("1101051949123100AX", "17 digits followed by a digit or X"),
        ("11010519491231002Y", "17 digits followed by a digit or X"),
        ("110105194912310021", "wrong check character: expected X, got 1"),
        ("990105194912310027", "unknown region code 990105"),
        ("110105194902300027", "impossible birth date 19490230"),
        ("110105209912310027", "impossible birth date 20991231"),
    ],
)
def test_it_rejects_bad_national_ids_with_a_clear_message(value: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_national_id(value, today=dt.date(2025, 6, 1))
    assert message in exc.value.message
    assert value in exc.value.message


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("13812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("8619912345678", "19912345678"),
        ("138-1234-5678", "13812345678"),
        ("0571-88001234", "0571-88001234"),
        ("057188001234", "0571-88001234"),
        ("010 6512 3456", "010-65123456"),
        ("88001234", "88001234"),
    ],
)
def test_it_accepts_and_normalises_mobiles_and_landlines(value: str, normalised: str) -> None:
    assert normalize_phone(value) == normalised


@pytest.mark.parametrize(
    "value", ["12812345678", "1381234567", "138123456789", "abc", "0571-0800123", "110"]
)
def test_it_rejects_bad_phone_numbers(value: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        normalize_phone(value)
    assert value in exc.value.message
    assert "mainland mobile number" in exc.value.message


def test_fake_national_ids_are_valid_and_carry_birth_date_region_and_sex() -> None:
    rng = random.Random(7)
    for _ in range(200):
        birth = fakes.fake_birth_date(rng, today=dt.date(2025, 6, 1), min_age=0, max_age=100)
        sex = fakes.fake_sex(rng)
        number = fakes.fake_national_id(rng, birth_date=birth, region_code="330106", sex=sex)
        parsed = parse_national_id(number, today=dt.date(2025, 6, 1))
        assert (parsed.birth_date, parsed.sex, parsed.region_code) == (birth, sex, "330106")


def test_fake_phones_names_and_addresses_are_well_formed_and_obviously_fake() -> None:
    rng = random.Random(1)
    for _ in range(100):
        mobile = fakes.fake_mobile(rng)
        assert normalize_phone(mobile) == mobile
        assert mobile[3:7] == "0000"
        assert normalize_phone(fakes.fake_landline(rng)).startswith("0571-8000")
        name = fakes.fake_name(rng)
        assert name[0] in fakes.SURNAMES
        assert 2 <= len(name) <= 3
        assert all(ch in fakes.PLACEHOLDER_GIVEN for ch in name[1:])
        assert "幢" in fakes.fake_flat_address(rng)


def test_fakes_are_deterministic_given_the_random_state() -> None:
    def batch(seed: int) -> list[str]:
        rng = random.Random(seed)
        birth = fakes.fake_birth_date(rng, today=dt.date(2025, 6, 1), min_age=60, max_age=90)
        return [
            fakes.fake_name(rng),
            fakes.fake_mobile(rng),
            fakes.fake_national_id(rng, birth_date=birth),
            fakes.fake_flat_address(rng),
        ]

    assert batch(42) == batch(42)
    assert batch(42) != batch(43)


def test_fake_birth_date_respects_the_age_range_on_a_leap_day() -> None:
    rng = random.Random(3)
    today = dt.date(2024, 2, 29)
    for _ in range(100):
        born = fakes.fake_birth_date(rng, today=today, min_age=60, max_age=60)
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        assert age == 60
