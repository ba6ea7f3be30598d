"""The admin follows memberships across apps: scoped areas, read-only reference data."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from gridgov.areas.models import Area
from gridgov.areas.tests.factories import make_street_tree
from gridgov.people.choices import Role
from gridgov.people.services import membership_grant

pytestmark = pytest.mark.django_db

REFERENCE_PAGES = [
    "/admin/catalog/category/",
    "/admin/catalog/tasktype/",
    "/admin/catalog/taskrule/",
    "/admin/core/calendarday/",
    "/admin/core/calendaryear/",
]


@pytest.fixture
def tree() -> dict[str, Area]:
    return make_street_tree()


def _client(username: str, area: Area, role: str) -> Client:
    user = get_user_model().objects.create_user(username=username, password="x-long-pass-1")
    membership_grant(actor=None, user=user, area=area, role=role)
    client = Client()
    client.force_login(user)
    return client


def test_a_grid_worker_sees_only_their_grid_in_the_area_admin(tree: dict[str, Area]) -> None:
    client = _client("chen", tree["g11"], Role.GRID_WORKER)
    page = client.get("/admin/areas/area/")
    assert page.status_code == 200
    shown = set(page.context["cl"].queryset.values_list("code", flat=True))
    assert shown == {tree["g11"].code, tree["m11"].code}
    assert client.get(f"/admin/areas/area/{tree['g12'].pk}/change/").status_code == 302
    assert client.get("/admin/areas/area/add/").status_code == 403
    assert client.get(f"/admin/areas/area/{tree['g11'].pk}/change/").status_code == 200
    response = client.post(f"/admin/areas/area/{tree['g11'].pk}/change/", {"name": "改名"})
    assert response.status_code == 403
    assert Area.objects.get(pk=tree["g11"].pk).name != "改名"


def test_the_command_centre_may_add_areas_only_inside_its_street(tree: dict[str, Area]) -> None:
    client = _client("zhou", tree["street"], Role.COMMAND_CENTRE)
    assert client.get("/admin/areas/area/add/").status_code == 200
    outside = Area.objects.create(code="330106005", name="别的街道", level="street",
                                  parent=tree["district"])  # fmt: skip
    response = client.post(
        "/admin/areas/area/add/",
        {"code": "330106005001", "name": "越界社区", "level": "community", "parent": outside.pk},
    )
    assert response.status_code == 200  # the form comes back with an error
    assert not Area.objects.filter(code="330106005001").exists()
    response = client.post(
        "/admin/areas/area/add/",
        {"code": "330106004003", "name": "新社区", "level": "community",
         "parent": tree["street"].pk},
    )  # fmt: skip
    assert response.status_code == 302, response.content[:800]
    assert Area.objects.filter(code="330106004003", parent=tree["street"]).exists()


@pytest.mark.parametrize("path", REFERENCE_PAGES)
def test_every_staff_member_reads_the_reference_data(tree: dict[str, Area], path: str) -> None:
    client = _client("pm", tree["m11"], Role.PARTY_MEMBER)
    assert client.get(path).status_code == 200
    assert client.get(path + "add/").status_code == 403


@pytest.mark.parametrize("path", REFERENCE_PAGES)
def test_the_command_centre_changes_the_reference_data(tree: dict[str, Area], path: str) -> None:
    client = _client("zhou", tree["street"], Role.COMMAND_CENTRE)
    assert client.get(path + "add/").status_code == 200


@pytest.mark.parametrize("path", [*REFERENCE_PAGES, "/admin/areas/area/"])
def test_staff_without_a_role_see_nothing(path: str) -> None:
    user = get_user_model().objects.create_user(
        username="nobody", password="x-long-pass-1", is_staff=True
    )
    client = Client()
    client.force_login(user)
    assert client.get(path).status_code == 403
