"""Login throttling (django-axes) and password hashing (Argon2)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

PASSWORD = "correct horse battery staple"


@pytest.mark.django_db
def test_a_new_users_password_is_hashed_with_argon2() -> None:
    user = get_user_model().objects.create_user("argon", password=PASSWORD)
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password(PASSWORD)


def _login(client: Client, password: str, ip: str = "127.0.0.1") -> Any:
    return client.post(
        reverse("admin:login"),
        {"username": "throttled", "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


@pytest.mark.django_db
def test_five_wrong_passwords_lock_the_account_for_that_ip() -> None:
    get_user_model().objects.create_user("throttled", password=PASSWORD, is_staff=True)
    client = Client()
    for _ in range(5):
        response = _login(client, "wrong")
        assert "_auth_user_id" not in client.session
    locked = _login(client, PASSWORD)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another address (a documentation-range IP, RFC 5737) is not locked out.
    other = Client()
    response = _login(other, PASSWORD, ip="192.0.2.7")
    assert response.status_code == 302
    assert "_auth_user_id" in other.session


@pytest.mark.django_db
def test_four_wrong_passwords_do_not_lock() -> None:
    get_user_model().objects.create_user("throttled", password=PASSWORD, is_staff=True)
    client = Client()
    for _ in range(4):
        _login(client, "wrong")
    assert _login(client, PASSWORD).status_code == 302
    assert "_auth_user_id" in client.session
