"""The managers' navigation: directives, campaigns, the admin changelists the user may
use, and the admin styled in the product's colours."""

from __future__ import annotations

from typing import Any

import pytest

from gridgov.tasks.tests.factories import TaskStreet


@pytest.mark.django_db
def test_managers_get_directives_and_campaigns_workers_do_not(
    login: Any, street: TaskStreet
) -> None:
    page = login("wu").get("/").content.decode()
    assert 'href="/manage/directives/"' in page
    assert 'href="/manage/campaigns/"' in page
    worker = login("chen").get("/").content.decode()
    assert "/manage/directives/" not in worker


@pytest.mark.django_db
def test_staff_get_the_admin_changelists_they_may_view(login: Any, street: TaskStreet) -> None:
    lin = street["lin"]
    lin.is_staff = False
    lin.save(update_fields=["is_staff"])
    assert "/admin/areas/area/" not in login("lin").get("/").content.decode()
    lin.is_staff = True
    lin.save(update_fields=["is_staff"])
    page = login("lin").get("/en/").content.decode()
    assert 'href="/en/admin/areas/area/"' in page
    assert 'href="/en/admin/people/membership/"' in page
    assert ">People and roles<" in page
    chinese = login("lin").get("/").content.decode()
    assert ">人员与角色<" in chinese


@pytest.mark.django_db
def test_the_admin_wears_the_products_colours(login: Any, street: TaskStreet) -> None:
    page = login("root").get("/en/admin/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "--header-bg: #1d4e89" in body
    assert "Back to gridgov" in body
