"""Admin pages of the working calendar."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from gridgov.core.models import CalendarDay, CalendarSource, CalendarYear

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "admin:core_calendarday_changelist",
        "admin:core_calendaryear_changelist",
        "admin:core_calendarday_add",
        "admin:core_calendaryear_add",
    ],
)
def test_calendar_admin_pages_load(admin_client: Client, url: str) -> None:
    assert admin_client.get(reverse(url)).status_code == 200


def test_changelists_filter_and_search(admin_client: Client) -> None:
    url = reverse("admin:core_calendarday_changelist")
    response = admin_client.get(url, {"year": "2026", "is_working_day__exact": "1"})
    assert response.status_code == 200
    # 4 Jan, 14 and 28 Feb, 9 May, 20 Sep, 10 Oct.
    assert response.context["cl"].result_count == 6
    response = admin_client.get(url, {"q": "国庆节", "year": "2026"})
    assert response.context["cl"].result_count == 7
    years = admin_client.get(reverse("admin:core_calendaryear_changelist"))
    assert years.context["cl"].result_count == 23
    row = next(y for y in years.context["cl"].result_list if y.year == 2026)
    assert row.day_count == 25


def test_year_changelist_query_count(
    admin_client: Client, django_assert_max_num_queries: object
) -> None:
    with django_assert_max_num_queries(12):  # type: ignore[operator]
        admin_client.get(reverse("admin:core_calendaryear_changelist"))


def test_editing_a_package_day_makes_it_manual(admin_client: Client) -> None:
    row = CalendarDay.objects.get(date=dt.date(2026, 10, 7))
    response = admin_client.post(
        reverse("admin:core_calendarday_change", args=[row.pk]),
        {"is_working_day": "on", "name": "国庆节（本地值班）"},
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.is_working_day, row.source, row.date) == (True, CalendarSource.MANUAL, row.date)


def test_deleting_days_and_years_in_the_admin(admin_client: Client) -> None:
    rows = CalendarDay.objects.filter(date__year=2026, name="春节")
    response = admin_client.post(
        reverse("admin:core_calendarday_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [str(pk) for pk in rows.values_list("pk", flat=True)],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not CalendarDay.objects.filter(date__year=2026, name="春节").exists()
    year = CalendarYear.objects.get(year=2026)
    response = admin_client.post(
        reverse("admin:core_calendaryear_delete", args=[year.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not CalendarYear.objects.filter(year=2026).exists()


def test_editing_a_year_note_keeps_its_source(admin_client: Client) -> None:
    year = CalendarYear.objects.get(year=2026)
    response = admin_client.post(
        reverse("admin:core_calendaryear_change", args=[year.pk]), {"note": "checked"}
    )
    assert response.status_code == 302
    year.refresh_from_db()
    assert (year.note, year.source) == ("checked", CalendarSource.PACKAGE)
