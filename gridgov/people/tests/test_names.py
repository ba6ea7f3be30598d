"""Staff names are shown as people write them."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.template import Context, Template

from gridgov.people.names import user_display_name


@pytest.mark.parametrize(
    ("first", "last", "username", "shown"),
    [
        ("指挥", "周", "zhou", "周指挥"),
        ("伟", "欧阳", "oy", "欧阳伟"),
        ("Ada", "Lovelace", "ada", "Ada Lovelace"),
        ("", "Lovelace", "ada", "Lovelace"),
        ("", "", "chen", "chen"),
    ],
)
def test_user_display_name(first: str, last: str, username: str, shown: str) -> None:
    user = get_user_model()(username=username, first_name=first, last_name=last)
    assert user_display_name(user) == shown


def test_none_is_empty_and_the_filter_says_the_same(db: Any) -> None:
    user = get_user_model()(username="zhou", first_name="指挥", last_name="周")
    template = Template("{% load people %}[{{ user|display_name }}][{{ nobody|display_name }}]")
    assert template.render(Context({"user": user, "nobody": None})) == "[周指挥][]"
    assert user_display_name(None) == ""
