"""Campaigns: issuing a batch (all or nothing), before/after photos of a rectification,
verification, completion rate and the monthly ranking (see ``gridgov.campaigns``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gridgov.campaigns.models import AssignmentSlip, Campaign
from gridgov.campaigns.selectors import (
    campaign_list_visible_to,
    campaign_monthly_ranking,
    campaign_progress,
    slip_list_visible_to,
)
from gridgov.campaigns.services import (
    campaign_issue,
    campaign_slip_submit_rectification,
    campaign_slip_verify,
    slip_evidence_kinds,
)
from gridgov.core.errors import PermissionDenied, ValidationFailed
from gridgov.tasks.choices import TaskSource, TaskState
from gridgov.tasks.models import Task, TaskAttachment
from gridgov.tasks.tests.factories import TaskStreet

CST = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2025, 6, 3, 9, 0, tzinfo=CST)
DEADLINE = dt.datetime(2025, 6, 30, 17, 30, tzinfo=CST)

Photo = Callable[..., SimpleUploadedFile]

#: A point inside each grid of the test street (WGS84 lon, lat).
POINTS = {
    "g11": (120.007, 30.007),
    "m11": (120.002, 30.002),
    "g12": (120.017, 30.007),
    "g21": (120.027, 30.007),
    "g22": (120.037, 30.007),
}


def slip_at(key: str, photo: Photo, problem: str = "乱堆放") -> dict[str, Any]:
    lon, lat = POINTS[key]
    return {"lon": lon, "lat": lat, "problem": problem, "photo": photo(f"{key}.png")}


def issue(street: TaskStreet, slips: list[dict[str, Any]], **kwargs: Any) -> Campaign:
    values: dict[str, Any] = {
        "actor": street["zhou"],
        "title": "全域共美第3批交办单",
        "task_type": street.types["patrol"],
        "deadline": DEADLINE,
        "month": "2025-06",
        "now": NOW,
    }
    values.update(kwargs)
    return campaign_issue(slips=slips, **values)


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# --- issue --------------------------------------------------------------------------------------


def test_it_issues_a_batch_each_slip_a_dispatched_task_of_its_grid(
    street: TaskStreet, photo: Photo, media_root: Path
) -> None:
    shop = street.places["shop"]  # in g12
    campaign = issue(
        street,
        [
            {"place": shop, "problem": "店外占道经营", "photo": photo("shop.png")},
            slip_at("m11", photo, "楼道堆放杂物"),  # a micro-grid: its grid receives it
            {**slip_at("g21", photo, "垃圾桶满溢"), "address": "古荡路1号"},
        ],
    )

    assert campaign.month == dt.date(2025, 6, 1)
    assert campaign.area == street["street"]  # the smallest area holding every slip
    assert campaign.issued_by == street["zhou"]
    slips = list(campaign.slips.select_related("task", "area", "place"))
    assert [s.number for s in slips] == [1, 2, 3]
    assert [s.area for s in slips] == [street["g12"], street["g11"], street["g21"]]
    assert (slips[0].place, slips[0].lon, slips[0].lat) == (shop, 120.015, 30.005)
    assert slips[0].address == shop.address
    assert slips[2].address == "古荡路1号"
    for slip in slips:
        task = slip.task
        assert task is not None
        assert task.source == TaskSource.CAMPAIGN
        assert task.source_key == f"campaign:{slip.pk}"
        assert task.state == TaskState.DISPATCHED
        assert task.deadline == DEADLINE
        assert task.area == slip.area
        assert task.description == slip.problem
        assert task.title == f"全域共美第3批交办单 #{slip.number}"
    assert slips[0].task.target_place == shop
    assert slips[0].task.assignee == street["li"]
    assert len(files_under(media_root / "campaigns" / str(campaign.pk))) == 3


def test_a_bad_slip_rejects_the_whole_batch_with_every_slips_errors(
    street: TaskStreet, photo: Photo, media_root: Path
) -> None:
    not_an_image = SimpleUploadedFile("x.png", b"GIF89a-not-png", content_type="image/png")
    slips = [
        slip_at("g11", photo),
        {"lon": 120.007, "lat": 30.007, "problem": "", "photo": not_an_image},
        {"lon": 121.5, "lat": 31.2, "problem": "城外", "photo": photo()},
        {"problem": "无地点", "photo": photo(), "colour": "red"},
        slip_at("g21", photo),
    ]
    with pytest.raises(ValidationFailed) as caught:
        issue(street, slips)

    errors = {e["number"]: " ".join(e["errors"]) for e in caught.value.details["slips"]}
    assert sorted(errors) == [2, 3, 4]
    assert "Describe the problem" in errors[2]
    assert "not a JPEG, PNG, WebP or HEIC image" in errors[2]
    assert "inside no grid" in errors[3]
    assert "Unknown keys: colour" in errors[4]
    assert "Give a place or a location" in errors[4]
    assert "3 slips were refused" in caught.value.message
    assert not Campaign.objects.exists()
    assert not AssignmentSlip.objects.exists()
    assert not Task.objects.exists()
    assert files_under(media_root) == []


def test_a_failure_while_creating_tasks_rolls_back_the_batch_and_its_photos(
    street: TaskStreet, photo: Photo, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gridgov.tasks import services as task_services

    real_task_create = task_services.task_create
    calls = {"n": 0}

    def task_create_failing_on_the_second(**kwargs: Any) -> Task:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ValidationFailed("routing exploded")
        return real_task_create(**kwargs)

    monkeypatch.setattr(task_services, "task_create", task_create_failing_on_the_second)
    with pytest.raises(ValidationFailed, match="Slip #2: routing exploded") as caught:
        issue(street, [slip_at("g11", photo), slip_at("g12", photo), slip_at("g21", photo)])
    assert caught.value.details == {"slips": [{"number": 2, "errors": ["routing exploded"]}]}
    assert not Campaign.objects.exists()
    assert not Task.objects.exists()
    assert files_under(media_root) == []


def test_a_grid_worker_cannot_issue_and_a_community_admin_only_inside(
    street: TaskStreet, photo: Photo
) -> None:
    with pytest.raises(PermissionDenied, match="Only the command centre or a community admin"):
        issue(street, [slip_at("g11", photo)], actor=street["chen"])

    with pytest.raises(PermissionDenied) as caught:
        issue(
            street,
            [slip_at("g11", photo), slip_at("g21", photo), slip_at("g22", photo)],
            actor=street["lin"],
        )
    assert [e["number"] for e in caught.value.details["slips"]] == [2, 3]
    assert not Campaign.objects.exists()

    campaign = issue(street, [slip_at("g11", photo), slip_at("g12", photo)], actor=street["lin"])
    assert campaign.area == street["c1"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"deadline": NOW}, "not in the future"),
        ({"deadline": NOW + dt.timedelta(days=400)}, "more than 366 days ahead"),
        ({"month": "June"}, "not a month"),
        ({"title": ""}, "needs a title"),
        ({"title": "长" * 191}, "at most 190 characters"),
    ],
)
def test_it_refuses_a_bad_batch(
    street: TaskStreet, photo: Photo, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationFailed, match=message):
        issue(street, [slip_at("g11", photo)], **kwargs)
    with pytest.raises(ValidationFailed, match="at least one slip"):
        issue(street, [])
    assert not Campaign.objects.exists()


# --- rectification and verification -----------------------------------------------------------


def _accepted_slip(street: TaskStreet, photo: Photo) -> AssignmentSlip:
    from gridgov.tasks.services import task_accept

    campaign = issue(street, [slip_at("g12", photo)])
    slip = campaign.slips.get()
    task_accept(actor=street["li"], task=Task.objects.get(pk=slip.task_id), now=NOW)
    return slip


def test_a_rectification_needs_before_and_after_photos(street: TaskStreet, photo: Photo) -> None:
    slip = _accepted_slip(street, photo)
    with pytest.raises(ValidationFailed, match="from after") as caught:
        campaign_slip_submit_rectification(
            actor=street["li"],
            slip=slip,
            note="已清理",
            before_photos=[photo("before.png")],
            after_photos=[],
            now=NOW,
        )
    assert "from before" not in caught.value.message
    with pytest.raises(ValidationFailed, match="from before"):
        campaign_slip_submit_rectification(
            actor=street["li"], slip=slip, note="已清理", before_photos=[], after_photos=[photo()]
        )
    assert Task.objects.get(pk=slip.task_id).state == TaskState.ACCEPTED


def test_a_rectification_with_both_photos_is_handled_then_verified_and_closed(
    street: TaskStreet, photo: Photo
) -> None:
    slip = _accepted_slip(street, photo)
    task = campaign_slip_submit_rectification(
        actor=street["li"],
        slip=slip,
        note="已清理占道物品",
        lon=120.015,
        lat=30.005,
        before_photos=[photo("b1.png"), photo("b2.png")],
        after_photos=[photo("a1.png")],
        now=NOW + dt.timedelta(days=1),
    )
    assert task.state == TaskState.HANDLED
    kinds = sorted(TaskAttachment.objects.filter(task=task).values_list("kind", flat=True))
    assert kinds == ["after", "before", "before"]
    assert slip_evidence_kinds(slip) == {"before", "after"}

    closed = campaign_slip_verify(
        actor=street["zhou"],
        slip=slip,
        passed=True,
        note="验收合格",
        now=NOW + dt.timedelta(days=2),
    )
    assert closed.state == TaskState.CLOSED
    assert campaign_progress(campaign=slip.campaign, now=NOW)["completion_rate"] == Decimal(
        "100.00"
    )


def test_a_slip_handled_without_before_and_after_photos_cannot_pass_verification(
    street: TaskStreet, photo: Photo
) -> None:
    from gridgov.tasks.services import task_submit_feedback

    slip = _accepted_slip(street, photo)
    task_submit_feedback(
        actor=street["li"],
        task=Task.objects.get(pk=slip.task_id),
        note="已整改",
        lon=None,
        lat=None,
        answers=None,
        photos=[photo("whatever.png")],
        now=NOW,
    )
    with pytest.raises(ValidationFailed, match="lacks after / before photos"):
        campaign_slip_verify(actor=street["zhou"], slip=slip, passed=True, now=NOW)
    assert Task.objects.get(pk=slip.task_id).state == TaskState.HANDLED
    # Failing it is always possible: back to the worker for rework.
    returned = campaign_slip_verify(
        actor=street["zhou"], slip=slip, passed=False, note="请补充整改前后照片", now=NOW
    )
    assert returned.state == TaskState.RETURNED


# --- figures ------------------------------------------------------------------------------------


def _set(slip: AssignmentSlip, state: str, **fields: Any) -> None:
    Task.objects.filter(pk=slip.task_id).update(state=state, **fields)


@pytest.fixture
def june(street: TaskStreet, photo: Photo) -> dict[str, list[AssignmentSlip]]:
    """Two June batches and a July one; slip states set by hand:

    - g11: 3 slips — 2 closed on time, 1 closed late          → 100%, on time 66.67%
    - g12: 2 slips — 1 closed on time, 1 open but suspended   → 50%, 50%
    - g21: 2 slips — 2 closed on time                         → 100%, 100%
    - g22: 1 slip  — open, past the deadline                  → 0%, 0%
    - community c1: 5 slips, 4 closed, 3 on time              → 80%, 60%
    - community c2: 3 slips, 2 closed, 2 on time              → 66.67%, 66.67%
    """
    first = issue(
        street,
        [slip_at(k, photo) for k in ("g11", "g11", "g12", "g21", "g22")],
        title="六月第1批",
    )
    second = issue(street, [slip_at(k, photo) for k in ("g11", "g12", "g21")], title="六月第2批")
    july = issue(street, [slip_at("g11", photo)], title="七月第1批", month=dt.date(2025, 7, 15))
    early, late = DEADLINE - dt.timedelta(days=2), DEADLINE + dt.timedelta(hours=1)
    s1, s2 = list(first.slips.all()), list(second.slips.all())
    _set(s1[0], TaskState.CLOSED, closed_at=early)  # g11
    _set(s1[1], TaskState.CLOSED, closed_at=late)  # g11, late
    _set(s1[2], TaskState.CLOSED, closed_at=early)  # g12
    _set(s1[3], TaskState.CLOSED, closed_at=early)  # g21
    # s1[4]: g22 stays dispatched
    _set(s2[0], TaskState.CLOSED, closed_at=early)  # g11
    _set(s2[1], TaskState.ACCEPTED, suspended_at=NOW)  # g12, suspended
    _set(s2[2], TaskState.CLOSED, closed_at=early)  # g21
    _set(july.slips.get(), TaskState.CLOSED, closed_at=early)
    return {"first": s1, "second": s2}


AFTER_DEADLINE = DEADLINE + dt.timedelta(days=1)


def test_campaign_progress_figures(
    june: dict[str, list[AssignmentSlip]], django_assert_num_queries: Any
) -> None:
    campaign = june["first"][0].campaign
    with django_assert_num_queries(1):
        progress = campaign_progress(campaign=campaign, now=AFTER_DEADLINE)
    figures = {
        k: progress[k]
        for k in ("slips", "closed", "closed_on_time", "open", "overdue", "completion_rate")
    }
    assert figures == {
        "slips": 5,
        "closed": 4,
        "closed_on_time": 3,
        "open": 1,
        "overdue": 1,
        "completion_rate": Decimal("80.00"),
    }
    assert progress["on_time_rate"] == Decimal("60.00")
    assert [
        (c["code"][-3:], c["slips"], c["closed"], c["completion_rate"], c["overdue"])
        for c in progress["communities"]
    ] == [("001", 3, 3, Decimal("100.00"), 0), ("002", 2, 1, Decimal("50.00"), 1)]
    before = campaign_progress(campaign=june["first"][0].campaign, now=NOW)
    assert before["overdue"] == 0


def test_the_monthly_ranking_of_communities_and_grids(
    street: TaskStreet, june: dict[str, list[AssignmentSlip]], django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        ranking = campaign_monthly_ranking(month="2025-06", now=AFTER_DEADLINE)
    rows = [
        (
            r["level"],
            r["code"],
            r["slips"],
            r["closed"],
            r["completion_rate"],
            r["on_time_rate"],
            r["overdue"],
            r["rank"],
        )
        for r in ranking
    ]
    c1, c2 = street["c1"].code, street["c2"].code
    g11, g12, g21, g22 = (street[k].code for k in ("g11", "g12", "g21", "g22"))
    assert rows == [
        ("community", c1, 5, 4, Decimal("80.00"), Decimal("60.00"), 0, 1),
        ("community", c2, 3, 2, Decimal("66.67"), Decimal("66.67"), 1, 2),
        ("grid", g21, 2, 2, Decimal("100.00"), Decimal("100.00"), 0, 1),
        ("grid", g11, 3, 3, Decimal("100.00"), Decimal("66.67"), 0, 2),
        ("grid", g12, 2, 1, Decimal("50.00"), Decimal("50.00"), 0, 3),
        ("grid", g22, 1, 0, Decimal("0.00"), Decimal("0.00"), 1, 4),
    ]
    assert campaign_monthly_ranking(month=dt.date(2025, 6, 20), level="grid") == [
        r for r in campaign_monthly_ranking(month="2025-06") if r["level"] == "grid"
    ]
    july = campaign_monthly_ranking(month="2025-07", level="community")
    assert [(r["code"], r["slips"], r["rank"]) for r in july] == [(c1, 1, 1)]
    assert campaign_monthly_ranking(month="2025-08") == []


def test_equal_rates_share_a_rank(street: TaskStreet, photo: Photo) -> None:
    campaign = issue(street, [slip_at(k, photo) for k in ("g11", "g12", "g21")])
    for slip in campaign.slips.all():
        if slip.area != street["g21"]:
            _set(slip, TaskState.CLOSED, closed_at=NOW)
    grids = campaign_monthly_ranking(month="2025-06", level="grid")
    assert [(r["code"], r["rank"]) for r in grids] == [
        (street["g11"].code, 1),
        (street["g12"].code, 1),
        (street["g21"].code, 3),
    ]
    with pytest.raises(ValidationFailed, match="Unknown ranking level"):
        campaign_monthly_ranking(month="2025-06", level="street")


def test_campaigns_and_slips_are_listed_inside_the_readers_areas(
    street: TaskStreet, photo: Photo
) -> None:
    in_c2 = issue(street, [slip_at("g21", photo)])
    both = issue(street, [slip_at("g11", photo), slip_at("g22", photo)])
    assert list(campaign_list_visible_to(street["lin"])) == [both]
    assert list(campaign_list_visible_to(street["zhou"])) == [both, in_c2]
    assert [s.area for s in slip_list_visible_to(street["lin"])] == [street["g11"]]
    assert [s.area for s in slip_list_visible_to(street["zhao"])] == [street["g21"]]
    assert list(slip_list_visible_to(street["zhao"], campaign=both)) == []
