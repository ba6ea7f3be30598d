"""Admin for areas: list, search, filters, and service validation on save."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse

from gridgov.areas.models import Area
from gridgov.areas.selectors import area_locate
from gridgov.areas.services import area_retire
from gridgov.areas.tests.factories import make_street_tree, square

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree() -> dict[str, Area]:
    return make_street_tree()


def form_data(**fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "code": "",
        "name": "",
        "level": "grid",
        "parent": "",
        "ref": "",
        "boundary": "",
        "valid_from": "",
        "valid_to": "",
    }
    data.update(fields)
    return data


def test_the_list_searches_and_filters(admin_client: Client, tree: dict[str, Area]) -> None:
    url = reverse("admin:areas_area_changelist")
    area_retire(area=tree["g22"], on=dt.date(2020, 1, 1))
    page = admin_client.get(url, {"q": "网格1-2"})
    assert page.status_code == 200
    assert [a.code for a in page.context["cl"].result_list] == [
        tree["g12"].code,
        tree["m12"].code,
    ]
    page = admin_client.get(url, {"level": "grid", "validity": "retired"})
    assert [a.code for a in page.context["cl"].result_list] == [tree["g22"].code]
    page = admin_client.get(url, {"level": "grid", "validity": "valid"})
    assert len(page.context["cl"].result_list) == 3


def test_adding_an_area_goes_through_the_service(
    admin_client: Client, tree: dict[str, Area]
) -> None:
    response = admin_client.post(
        reverse("admin:areas_area_add"),
        form_data(
            code="330106004001003",
            name="新网格",
            parent=tree["c1"].pk,
            boundary=json.dumps(square(120.0055, 30.0055, 0.004)),
        ),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    grid = Area.objects.get(code="330106004001003")
    assert (grid.min_lon, grid.max_lat) == pytest.approx((120.0055, 30.0095))
    # Inside the old grid too: of two grids, the smaller polygon wins.
    assert area_locate(120.007, 30.007) == grid


def test_an_area_drawn_outside_its_parent_is_refused(
    admin_client: Client, tree: dict[str, Area]
) -> None:
    response = admin_client.post(
        reverse("admin:areas_area_add"),
        form_data(
            code="330106004001003",
            name="画错的网格",
            parent=tree["c1"].pk,
            boundary=json.dumps(square(120.05, 30.05, 0.01)),
        ),
    )
    assert response.status_code == 200
    assert "outside its parent" in str(response.context["adminform"].form.errors)
    assert not Area.objects.filter(code="330106004001003").exists()


@pytest.mark.parametrize(
    ("boundary", "message"),
    [
        ("{not json", "Enter a valid JSON"),
        (json.dumps({"type": "Point", "coordinates": [120, 30]}), "not a Polygon"),
        (json.dumps(square(13358338, 3503549, 10)), "Web Mercator"),
        (
            json.dumps(
                {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
            ),
            "Self-intersection",
        ),
    ],
)
def test_a_bad_boundary_is_a_form_error(
    admin_client: Client, tree: dict[str, Area], boundary: str, message: str
) -> None:
    response = admin_client.post(
        reverse("admin:areas_area_add"),
        form_data(code="330106004001003", name="x", parent=tree["c1"].pk, boundary=boundary),
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors["boundary"])
    assert not Area.objects.filter(code="330106004001003").exists()


def test_a_bad_code_is_a_form_error(admin_client: Client, tree: dict[str, Area]) -> None:
    response = admin_client.post(
        reverse("admin:areas_area_add"),
        form_data(code="330106004002003", name="x", parent=tree["c1"].pk),
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert "does not start with its parent's code 330106004001" in " ".join(errors)


def test_changing_the_boundary_updates_the_box_and_the_index(
    admin_client: Client, tree: dict[str, Area]
) -> None:
    grid = tree["g12"]
    assert area_locate(120.019, 30.009) == grid
    response = admin_client.post(
        reverse("admin:areas_area_change", args=[grid.pk]),
        form_data(
            name="网格1-2 (redrawn)",
            ref="R12",
            boundary=json.dumps(square(120.012, 30.002, 0.006)),
        ),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    grid.refresh_from_db()
    assert (grid.name, grid.ref, grid.code) == ("网格1-2 (redrawn)", "R12", "330106004001002")
    assert (grid.min_lat, grid.max_lat) == pytest.approx((30.002, 30.008))
    assert area_locate(120.016, 30.006) == grid
    assert area_locate(120.019, 30.009) == tree["c1"]  # no longer inside the shrunk grid


def test_a_redraw_outside_the_parent_is_refused(
    admin_client: Client, tree: dict[str, Area]
) -> None:
    grid = tree["g12"]
    response = admin_client.post(
        reverse("admin:areas_area_change", args=[grid.pk]),
        form_data(name=grid.name, boundary=json.dumps(square(120.01, 30.02, 0.01))),
    )
    assert response.status_code == 200
    assert "outside its parent" in str(response.context["adminform"].form.errors)
    grid.refresh_from_db()
    assert grid.min_lat == pytest.approx(30.0)


def test_deleting_an_area_with_children_is_refused(
    admin_client: Client, tree: dict[str, Area]
) -> None:
    response = admin_client.post(
        reverse("admin:areas_area_delete", args=[tree["g11"].pk]), {"post": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert Area.objects.filter(pk=tree["g11"].pk).exists()
    admin_client.post(reverse("admin:areas_area_delete", args=[tree["m11"].pk]), {"post": "yes"})
    assert not Area.objects.filter(pk=tree["m11"].pk).exists()
