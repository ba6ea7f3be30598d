"""``gridgov api-token create|revoke|list`` and the token admin."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from gridgov.api.models import ApiToken
from gridgov.api.services import api_token_create
from gridgov.tasks.tests.factories import TaskStreet


def _run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("api_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_prints_the_token_once_and_it_works(street: TaskStreet) -> None:
    out, err = _run("create", "chen", "--name", "陈的手机")
    raw = out.strip()
    assert raw.startswith("ggv_")
    assert "not shown again" in err
    token = ApiToken.objects.get()
    assert token.name == "陈的手机"
    assert token.user == street["chen"]
    response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/areas")
    assert response.status_code == 200


def test_revoke_by_prefix_or_id_and_list(street: TaskStreet) -> None:
    token, raw = api_token_create(user=street["chen"], name="a")
    second, _ = api_token_create(user=street["chen"], name="b")
    out, _err = _run("revoke", token.prefix)
    assert "revoked" in out
    _run("revoke", str(second.pk))
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 0
    listing, _err = _run("list", "chen")
    assert listing.count("revoked") == 2
    assert raw not in listing
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/areas").status_code == 401


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create", "ghost"), "no user is called ghost"),
        (("revoke", "ggv_nothing"), "no API token has id or prefix ggv_nothing"),
    ],
)
def test_bad_input_is_a_command_error(
    street: TaskStreet, args: tuple[str, ...], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        _run(*args)


def test_revoking_twice_is_a_command_error(street: TaskStreet) -> None:
    token, _raw = api_token_create(user=street["chen"])
    _run("revoke", str(token.pk))
    with pytest.raises(CommandError, match="already revoked"):
        _run("revoke", str(token.pk))


def test_the_admin_lists_and_revokes_for_superusers_only(street: TaskStreet) -> None:
    token, _raw = api_token_create(user=street["chen"], name="phone")
    admin = Client()
    admin.force_login(street["root"])
    response = admin.get("/admin/api/apitoken/")
    assert response.status_code == 200
    assert token.prefix in response.content.decode()
    response = admin.post(
        "/admin/api/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
        follow=True,
    )
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.revoked_at is not None
    staff = Client()
    staff.force_login(street["zhou"])
    assert staff.get("/admin/api/apitoken/").status_code == 403
