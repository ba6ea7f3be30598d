"""The admin pages officials use to browse and edit the catalogue."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from gridgov.catalog.models import TaskType
from gridgov.catalog.services import catalog_import_default


@pytest.fixture
def catalogue() -> None:
    catalog_import_default()


@pytest.mark.django_db
@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    ("model", "query", "expected"),
    [
        ("category", "q=安全", "安全隐患排查"),
        ("tasktype", "q=12345", "12345热线工单办理"),
        ("tasktype", "public__exact=1&negative_list__exact=0", "0313"),
        ("tasktype", "negative_list__exact=1", "0507"),
        ("taskrule", "q=020401", "020401"),
        ("taskrule", "target_kind__exact=place&time_limit_unit__exact=natural_day", "030201"),
        ("taskrule", "active__exact=0", "020902"),
    ],
)
def test_changelists_search_and_filter(
    admin_client: Client, model: str, query: str, expected: str
) -> None:
    response = admin_client.get(reverse(f"admin:catalog_{model}_changelist") + f"?{query}")

    assert response.status_code == 200
    assert expected in response.content.decode()


@pytest.mark.django_db
@pytest.mark.usefixtures("catalogue")
def test_a_task_type_page_shows_its_rules_inline(admin_client: Client) -> None:
    task_type = TaskType.objects.get(code="0405")

    response = admin_client.get(reverse("admin:catalog_tasktype_change", args=[task_type.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    for code in ("040501", "040502", "040503", "040504"):
        assert code in body


@pytest.mark.django_db
@pytest.mark.usefixtures("catalogue")
def test_the_rule_form_refuses_an_inconsistent_target_with_a_message(admin_client: Client) -> None:
    from gridgov.catalog.models import TaskRule

    rule = TaskRule.objects.get(code="020101")
    url = reverse("admin:catalog_taskrule_change", args=[rule.pk])
    data = {
        "task_type": rule.task_type_id,
        "code": rule.code,
        "name_zh": rule.name_zh,
        "name_en": rule.name_en,
        "target_kind": "household",
        "target_tag": "",
        "target_place_kind": "",
        "recurrence": "FREQ=WEEKLY;BYDAY=MO",
        "time_limit_value": 7,
        "time_limit_unit": "natural_day",
        "priority": "high",
        "min_photos": 1,
        "checkin_radius_m": 200,
        "form_fields": "[]",
        "active": "on",
    }

    response = admin_client.post(url, data)

    assert response.status_code == 200  # the form again, with the error
    assert "A household target needs a resident tag" in response.content.decode()
    rule.refresh_from_db()
    assert rule.target_tag == "elderly_high_risk"

    data["target_tag"] = "elderly_key"
    assert admin_client.post(url, data).status_code == 302
    rule.refresh_from_db()
    assert rule.target_tag == "elderly_key"
