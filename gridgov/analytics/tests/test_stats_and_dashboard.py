"""``gridgov stats`` and ``/dashboard/``: the same figures as ``task_figures``, scoped pages."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from gridgov.analytics.management.commands.stats import stats_json
from gridgov.analytics.selectors import figures_as_json, task_figures
from gridgov.analytics.tests.conftest import END, NOW, START
from gridgov.tasks.tests.factories import TaskStreet

URL = "/en/dashboard/"


def stats(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("stats", *args, "--json", stdout=out)
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


def login(street: TaskStreet, username: str) -> Client:
    client = Client()
    client.force_login(street[username], backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.mark.django_db
def test_stats_json_equals_task_figures(street: TaskStreet, week: Any) -> None:
    code = street["street"].code
    data = stats("--area", code, "--from", "2025-06-02", "--to", "2025-06-08")
    expected = figures_as_json(task_figures(area=street["street"], start=START, end=END, now=NOW))
    assert data == {key: expected[key] for key in data}
    assert (data["issued"], data["due"], data["closure_rate"], data["overdue_open"]) == (
        5, 4, 75.0, 1,
    )  # fmt: skip
    assert list(data) == [
        "issued", "due", "closed", "closed_on_time", "closure_rate", "on_time_rate",
        "rework_rate", "extension_rate", "overdue_open", "by_category", "by_source", "by_area",
    ]  # fmt: skip
    row = next(r for r in data["by_area"] if r["code"] == street["c1"].code)
    assert (row["score"], row["grade"]) == (56.67, "D")


@pytest.mark.django_db
def test_stats_defaults_to_the_last_seven_days(street: TaskStreet, week: Any) -> None:
    data = stats()  # the clock is Monday 2025-06-09: the week 06-02 – 06-08
    assert data == stats_json(task_figures(start=START, end=END, now=NOW))
    assert data["issued"] == 5
    assert data != stats("--from", "2025-06-03", "--to", "2025-06-08")
    out = io.StringIO()
    call_command("stats", stdout=out)
    assert "Closure rate: 75.00%" in out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2025-13-01"], "--from: '2025-13-01' is not a date"),
        (["--to", "yesterday"], "--to: 'yesterday' is not a date"),
        (["--area", "999999"], "no area has code 999999"),
        (["--from", "2025-06-08", "--to", "2025-06-02"], "ends (2025-06-02) before it starts"),
    ],
)
def test_stats_refuses_bad_input_with_a_clear_message(
    street: TaskStreet, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("stats", *args)


@pytest.mark.django_db
def test_the_dashboard_shows_the_same_figures_as_the_command(street: TaskStreet, week: Any) -> None:
    response = login(street, "zhou").get(URL)  # default: his street, the last 7 days
    assert response.status_code == 200
    figures = response.context["figures"]
    assert stats_json(figures) == stats("--area", street["street"].code)
    assert response.context["area"] == street["street"]
    html = response.content.decode()
    assert 'data-figure="closure_rate">75.00%<' in html
    assert 'id="dash-trend-data"' in html
    assert "echarts.min.js" in html
    assert "/en/manage/tasks/?area=330106004&amp;due=1&amp;deadline_from=2025-06-02" in html
    assert "overdue=now" in html
    assert 'title="Closure rate = closed / due."' in html
    assert 'name="start" value="2025-06-02"' in html
    assert ">D</td>" in html
    assert ">A</td>" in html


@pytest.mark.django_db
def test_the_dashboard_picks_an_area_and_a_period(street: TaskStreet, week: Any) -> None:
    client = login(street, "zhou")
    response = client.get(URL, {"area": street["c2"].code, "start": "2025-06-02",
                                "end": "2025-06-08"})  # fmt: skip
    assert response.context["figures"]["due"] == 1
    bad = client.get(URL, {"area": street["c2"].code, "start": "2025-06-08", "end": "2025-06-01"})
    assert bad.status_code == 200
    assert bad.context["form"].errors
    assert bad.context["figures"]["area"] == street["street"].code
    # A link that gives only the period keeps the default area, without a form error.
    period_only = client.get(URL, {"start": "2025-06-02", "end": "2025-06-08"})
    assert not period_only.context["form"].errors
    assert period_only.context["area"] == street["street"]
    assert str(period_only.context["figures"]["start"]) == "2025-06-02"


@pytest.mark.django_db
def test_a_community_admin_sees_only_her_community(street: TaskStreet, week: Any) -> None:
    client = login(street, "lin")
    response = client.get(URL)
    assert response.context["area"] == street["c1"]
    assert response.context["figures"]["issued"] == 4
    outside = client.get(URL, {"area": street["c2"].code, "start": "2025-06-02",
                               "end": "2025-06-08"})  # fmt: skip
    assert outside.context["form"].errors["area"]
    assert outside.context["figures"]["area"] == street["c1"].code


@pytest.mark.django_db
@pytest.mark.parametrize(("username", "status"), [("chen", 403), ("pm", 403), ("nobody", 403)])
def test_others_than_managers_get_403(street: TaskStreet, username: str, status: int) -> None:
    assert login(street, username).get(URL).status_code == status


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_log_in(street: TaskStreet) -> None:
    response = Client().get(URL)
    assert response.status_code == 302
    assert "login" in response["Location"]


@pytest.mark.django_db
def test_the_dashboard_renders_in_chinese(street: TaskStreet, week: Any) -> None:
    response = login(street, "zhou").get("/dashboard/")
    assert response.status_code == 200
    assert "结案率" in response.content.decode()


@pytest.mark.django_db
def test_stats_command_reproduces_the_published_bulletin(street: TaskStreet) -> None:
    """972 due, 911 closed, 737 closed on time → 93.72% and 75.82%, through the command."""
    from gridgov.tasks.choices import TaskSource, TaskState
    from gridgov.tasks.models import Task

    patrol, grid = street.types["patrol"], street["g21"]
    deadline = NOW.replace(day=5)
    rows = []
    for n in range(972):
        if n < 737:
            fields = {"state": TaskState.CLOSED, "closed_at": deadline.replace(day=4)}
        elif n < 911:
            fields = {"state": TaskState.CLOSED, "closed_at": deadline.replace(day=6)}
        else:
            fields = {"state": TaskState.DISPATCHED}
        rows.append(Task(number=f"P{n:06d}", source=TaskSource.ROUTINE, task_type=patrol,
                         area=grid, title="bulletin", deadline=deadline, **fields))  # fmt: skip
    Task.objects.bulk_create(rows, batch_size=500)
    data = stats("--area", street["c2"].code, "--from", "2025-06-01", "--to", "2025-06-30")
    assert (data["due"], data["closed"], data["closed_on_time"]) == (972, 911, 737)
    assert (data["closure_rate"], data["on_time_rate"]) == (93.72, 75.82)
    out = io.StringIO()
    call_command("stats", "--area", street["c2"].code, "--from", "2025-06-01",
                 "--to", "2025-06-30", stdout=out)  # fmt: skip
    assert "Closure rate: 93.72%" in out.getvalue()
    assert "On-time closure rate: 75.82%" in out.getvalue()


@pytest.mark.django_db
def test_each_figure_links_to_a_list_of_exactly_its_tasks(street: TaskStreet, week: Any) -> None:
    client = login(street, "zhou")
    response = client.get(URL, {"start": "2025-06-02", "end": "2025-06-08"})
    figures, links = response.context["figures"], response.context["links"]
    numerators = {"closure_rate": "closed", "on_time_rate": "closed_on_time",
                  "rework_rate": "reworked", "extension_rate": "extended"}  # fmt: skip
    for name, url in links.items():
        listed = client.get(url).context["page"].paginator.count
        assert listed == figures[numerators.get(name, name)], (name, url)


@pytest.mark.django_db
def test_the_dashboard_shows_the_false_alarm_rate_of_the_period(
    street: TaskStreet, week: Any
) -> None:
    import datetime as dt

    from gridgov.iot.choices import AlarmOutcome, AlarmState, DeviceKind, RuleCode, Severity
    from gridgov.iot.models import Alarm, Device

    home = street.households["home"]
    device = Device.objects.create(household=home, kind=DeviceKind.WATER_METER, serial="WM-1")
    inside = dt.datetime(2025, 6, 4, 10, tzinfo=dt.UTC)
    outcomes = [AlarmOutcome.AWAY, AlarmOutcome.METER_FAULT, AlarmOutcome.HANDLED, None]
    for n, outcome in enumerate(outcomes):
        Alarm.objects.create(
            device=device, household=home, rule=RuleCode.WATER_LOW_USE, severity=Severity.MAJOR,
            state=AlarmState.CLEARED if outcome else AlarmState.ACTIVE, first_at=inside,
            last_at=inside, cleared_at=inside if outcome else None, outcome=outcome or "",
            count=n + 1,
        )  # fmt: skip
    # Cleared outside the period: not counted.
    before = dt.datetime(2025, 5, 1, tzinfo=dt.UTC)
    Alarm.objects.create(
        device=device, household=home, rule=RuleCode.SOS, severity=Severity.CRITICAL,
        state=AlarmState.CLEARED, first_at=before, last_at=before, cleared_at=before,
        outcome=AlarmOutcome.FALSE_ALARM,
    )  # fmt: skip
    response = login(street, "zhou").get(URL)  # the week of 2025-06-02…08
    assert response.context["alarms"] == {"cleared": 3, "false_alarms": 2, "rate": Decimal("66.67")}
    html = response.content.decode()
    assert 'data-figure="false_alarm_rate">66.67%<' in html
    assert "2 of 3 cleared" in html
