"""The masked formats shown to everyone who has not revealed a value."""

from __future__ import annotations

import datetime as dt

import pytest

from gridgov.people.masking import (
    mask_address,
    mask_birth_date,
    mask_name,
    mask_national_id,
    mask_phone,
)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("330106199001011234", "3301**********1234"),
        ("11010519491231002X", "1101**********002X"),
        ("12345678", "********"),
        ("", ""),
    ],
)
def test_national_id_shows_first_and_last_four(value: str, masked: str) -> None:
    assert mask_national_id(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13812345678", "138****5678"),
        ("0571-88001234", "0571-****1234"),
        ("010-6512345", "010-***2345"),
        ("88001234", "880*1234"),
        ("1234567", "*******"),
        ("", ""),
    ],
)
def test_phone_keeps_prefix_and_last_four(value: str, masked: str) -> None:
    assert mask_phone(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [("王小华", "王*华"), ("王华", "王*"), ("欧阳明华", "欧**华"), ("王", "*"), ("", "")],
)
def test_name_keeps_surname_and_last_character(value: str, masked: str) -> None:
    assert mask_name(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("古荡新村12幢3单元502室", "古荡新村12幢3单元***"),
        ("文三路478号华星时代广场A座1201", "文三路478号华星时代广场A座***"),
        ("学院路3号楼402", "学院路3号楼***"),
        ("古荡新村12幢", "古荡新村12幢"),
        ("大关路15号", "大关路**号"),
        ("杭州市西湖区某村", "杭州市西湖区某村"),
        ("", ""),
    ],
)
def test_address_keeps_compound_and_building_but_hides_the_flat(value: str, masked: str) -> None:
    assert mask_address(value) == masked


def test_birth_date_keeps_the_year() -> None:
    assert mask_birth_date(dt.date(1950, 3, 7)) == "1950-**-**"
    assert mask_birth_date(None) == ""


def test_str_of_records_is_masked(world) -> None:  # type: ignore[no-untyped-def]
    resident = world.residents["m11"]
    household = world.households["m11"]
    assert str(resident) == f"{mask_name(resident.name)} (#{resident.pk})"
    assert resident.name not in str(resident)
    assert str(household) == "古荡新村m11幢1单元***"
