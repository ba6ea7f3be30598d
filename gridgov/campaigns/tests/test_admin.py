"""The admin pages of campaigns and slips: scoped to the reader's areas, read-mostly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from gridgov.campaigns.models import Campaign
from gridgov.campaigns.services import campaign_issue
from gridgov.tasks.tests.factories import TaskStreet

CST = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2025, 6, 3, 9, 0, tzinfo=CST)


def _batch(street: TaskStreet, photo: Callable[..., SimpleUploadedFile]) -> Campaign:
    return campaign_issue(
        actor=None,
        title="六月交办单",
        task_type=street.types["patrol"],
        deadline=NOW + dt.timedelta(days=20),
        month="2025-06",
        slips=[
            {"lon": 120.007, "lat": 30.007, "problem": "一号问题乱堆放", "photo": photo()},
            {"lon": 120.027, "lat": 30.007, "problem": "二号问题垃圾满溢", "photo": photo()},
        ],
        now=NOW,
    )


def test_the_superuser_sees_the_batch_with_its_slips_inline(
    street: TaskStreet, photo: Callable[..., SimpleUploadedFile], client: Client
) -> None:
    campaign = _batch(street, photo)
    client.force_login(street["root"])

    page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "一号问题乱堆放" in body
    assert "二号问题垃圾满溢" in body
    assert 'name="title"' in body  # the issuer may correct the title

    listing = client.get(reverse("admin:campaigns_assignmentslip_changelist") + "?q=垃圾")
    assert listing.status_code == 200
    assert "六月交办单 #2" in listing.content.decode()
    assert "六月交办单 #1" not in listing.content.decode()
    assert client.get(reverse("admin:campaigns_campaign_add")).status_code == 403


def test_a_community_admin_sees_only_the_slips_of_their_community(
    street: TaskStreet, photo: Callable[..., SimpleUploadedFile], client: Client
) -> None:
    campaign = _batch(street, photo)
    slip_c1, slip_c2 = campaign.slips.order_by("number")
    client.force_login(street["lin"])

    listing = client.get(reverse("admin:campaigns_assignmentslip_changelist"))
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 1
    assert (
        client.get(reverse("admin:campaigns_assignmentslip_change", args=[slip_c1.pk])).status_code
        == 200
    )
    outside = client.get(reverse("admin:campaigns_assignmentslip_change", args=[slip_c2.pk]))
    assert outside.status_code in (302, 403, 404)
    # The batch spans the street: a community admin sees it, with their slips only, and may
    # not rename it.
    assert (
        client.get(reverse("admin:campaigns_campaign_changelist")).context["cl"].result_count == 1
    )
    page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "一号问题乱堆放" in body
    assert "二号问题垃圾满溢" not in body
    assert 'name="title"' not in body
