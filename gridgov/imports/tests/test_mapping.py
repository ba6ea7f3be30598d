"""The mapping file: the LA example loads; mistakes are refused with every problem named."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridgov.core.errors import ValidationFailed
from gridgov.imports.mapping import mapping_load
from gridgov.imports.tests.conftest import MAPPING

LA_MAPPING = Path(__file__).resolve().parents[3] / "examples" / "la311" / "mapping.yaml"


def load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return mapping_load(path=path)


def test_the_la_example_loads() -> None:
    mapping = mapping_load(path=LA_MAPPING)
    assert mapping.system == "la311"
    assert mapping.type.map["Graffiti Removal"] == "0505"
    assert mapping.status.map == {
        "Closed": "closed", "Cancelled": "cancelled", "Referred Out": "rejected",
        "Open": "registered",
    }  # fmt: skip
    assert mapping.area is not None
    assert (mapping.area.column, mapping.area.match) == ("NC", "ref")
    assert {"SRNumber", "CreatedDate", "RequestType", "Address", "NCName"} <= mapping.columns()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("system: old", "system: old"), None),  # the unchanged file is fine
        (("处理中: registered", "处理中: dispatched"), "status.map.处理中"),
        (('"0505"', "0505"), "is a number to YAML: write catalogue codes in quotes"),  # octal
        (('"0505"', '"505"'), "not a 4-digit task type"),
        (("system: old", "system: Old System"), "system"),
        (("timezone: Asia/Shanghai", "timezone: Mars/Olympus"), "unknown time zone"),
        (('title: "{类别}：{地址}"', 'title: "{地址!r}"'), "write a column as"),
        (("location: {lon: 经度, lat: 纬度}\narea: {column: 网格编码}\n", ""), "give location"),
        (("number: 编号", "number: 编号\nnumbr: 编号"), "numbr"),  # a typo is not ignored
    ],
)
def test_mistakes_are_refused_by_key(
    tmp_path: Path, change: tuple[str, str], problem: str | None
) -> None:
    text = MAPPING.replace(*change)
    if problem is None:
        load(tmp_path, text)
        return
    assert text != MAPPING
    with pytest.raises(ValidationFailed, match="not a valid mapping") as info:
        load(tmp_path, text)
    assert problem in info.value.message


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as info:
        load(tmp_path, "system: old\nnumber: 编号\n")
    problems = info.value.details["problems"]
    assert {p.split(":")[0] for p in problems} >= {"created", "type", "status", "title"}


def test_a_key_given_twice_or_bad_yaml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="duplicate key 'number'"):
        load(tmp_path, MAPPING + "number: 编号\n")
    with pytest.raises(ValidationFailed, match="not valid YAML"):
        load(tmp_path, "system: [old\n")
    with pytest.raises(ValidationFailed, match="Cannot read the mapping"):
        mapping_load(path=tmp_path / "missing.yaml")
