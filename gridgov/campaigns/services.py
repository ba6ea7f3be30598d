"""Writes of the campaigns app: issue a batch of assignment slips, rectify and verify a slip.

Every slip becomes one task of source ``campaign`` through ``tasks.services.task_create``
(source key ``campaign:<slip id>``), so the 查督改验 loop is the one task life cycle:
inspect (the slip and its photo), supervise (deadline, overdue sweep, escalation),
rectify (feedback with before **and** after photos), verify (the task's normal verify,
which here also checks those photos). See docs/campaigns.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext_lazy

from gridgov.areas.models import CODE_LENGTH, Area, AreaLevel
from gridgov.areas.selectors import area_locate
from gridgov.campaigns.models import AssignmentSlip, Campaign
from gridgov.catalog.models import TaskType
from gridgov.core.calendar import deadline_set_by_hand_check
from gridgov.core.errors import GridgovError, PermissionDenied, ValidationFailed
from gridgov.core.validators import year_check
from gridgov.people.choices import Role
from gridgov.people.models import Place
from gridgov.people.selectors import user_can_access_area, user_holds_role
from gridgov.tasks.choices import TaskAction, TaskSource
from gridgov.tasks.evidence import photos_check
from gridgov.tasks.models import Task, TaskAttachment, TaskEvent

__all__ = [
    "CAMPAIGN_ISSUER_ROLES",
    "SLIP_KEYS",
    "campaign_issue",
    "campaign_month",
    "campaign_slip_submit_rectification",
    "campaign_slip_verify",
    "slip_evidence_kinds",
]

#: Roles that may issue a batch, over every slip's grid (the command centre over its
#: street, a community admin inside their community).
CAMPAIGN_ISSUER_ROLES: frozenset[str] = frozenset({Role.COMMAND_CENTRE, Role.COMMUNITY_ADMIN})
#: The longest batch title: its slips' tasks are titled "<title> #<number>" (≤ 200).
TITLE_MAX = 190
#: The keys a slip dict may carry.
SLIP_KEYS: frozenset[str] = frozenset({"place", "lon", "lat", "address", "problem", "photo"})
#: The attachment kinds a rectification must carry (``TaskAttachment.kind``).
BEFORE, AFTER = "before", "after"
KIND_LABELS = {BEFORE: pgettext_lazy("photo", "before"), AFTER: pgettext_lazy("photo", "after")}

_GRID_LEN = CODE_LENGTH[AreaLevel.GRID]
_LEVEL_LENGTHS = sorted(CODE_LENGTH.values())


def campaign_month(value: dt.date | str | None) -> dt.date | None:
    """Normalise a month to its first day: a date (any day of it) or ``"YYYY-MM"``;
    ``None`` or ``""`` give ``None``.

    Raises ``ValidationFailed`` for anything else, and for a year outside
    ``core.validators.YEAR_MIN…YEAR_MAX`` (1970–9998, as every date gridgov accepts).
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        first = value.replace(day=1)
    else:
        try:
            first = dt.datetime.strptime(str(value), "%Y-%m").date()  # noqa: DTZ007 (a date)
        except ValueError as exc:
            raise ValidationFailed(
                _("%(value)r is not a month (YYYY-MM).") % {"value": value}
            ) from exc
    year_check(first, name="month")
    return first


def _photo_problems(photo: Any, *, label: str) -> list[str]:
    """What is wrong with one uploaded photo (missing; or type by magic number and size,
    by the feedback's own check ``tasks.evidence.photos_check``), each message prefixed
    with ``label``."""
    if photo is None or not getattr(photo, "name", None):
        return [_("%(label)s is missing.") % {"label": label}]
    _checked, problems = photos_check([photo], min_photos=1)
    return [f"{label}: {p.message}" for p in problems]


def _grid_of(area: Area | None) -> Area | None:
    """The grid an area is or lies in (a micro-grid's grid); ``None`` above grid level."""
    if area is None or len(area.code) < _GRID_LEN:
        return None
    if len(area.code) == _GRID_LEN:
        return area
    return Area.objects.filter(code=area.code[:_GRID_LEN]).first()


def _common_area(grids: Iterable[Area]) -> Area | None:
    """The smallest area containing every grid: the longest common code prefix that is a
    whole level's code."""
    codes = [g.code for g in grids]
    prefix = codes[0]
    for code in codes[1:]:
        while not code.startswith(prefix):
            prefix = prefix[:-1]
    lengths = [n for n in _LEVEL_LENGTHS if n <= len(prefix)]
    if not lengths:
        return None
    return Area.objects.filter(code=prefix[: lengths[-1]]).first()


def _parse_point(lon: Any, lat: Any) -> tuple[tuple[float, float] | None, list[str]]:
    """Parse an optional WGS84 (lon, lat); return the point (or ``None``) and problems."""
    if lon is None and lat is None:
        return None, []
    if lon is None or lat is None:
        return None, [_("Give both longitude and latitude, or neither.")]
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        return None, [_("Longitude and latitude must be numbers.")]
    if not (-180 <= x <= 180 and -90 <= y <= 90):
        return None, [
            _("(%(lon)s, %(lat)s) is not a WGS84 longitude/latitude.") % {"lon": x, "lat": y}
        ]
    return (x, y), []


def _resolve_slip(
    raw: Mapping[str, Any], *, on: dt.date
) -> tuple[dict[str, Any] | None, list[str]]:
    """Check one slip dict; return (clean values, problems)."""
    problems: list[str] = []
    if not isinstance(raw, Mapping):
        return None, [_("A slip must be a mapping of place, lon, lat, address, problem, photo.")]
    unknown = sorted(set(raw) - SLIP_KEYS)
    if unknown:
        problems.append(_("Unknown keys: %(keys)s.") % {"keys": ", ".join(map(str, unknown))})
    problem = str(raw.get("problem") or "").strip()
    if not problem:
        problems.append(_("Describe the problem."))
    problems += _photo_problems(raw.get("photo"), label=_("The photo"))
    address = str(raw.get("address") or "").strip()
    if len(address) > 200:
        problems.append(_("The address is longer than 200 characters."))

    given_place = raw.get("place")
    place: Place | None = None
    if isinstance(given_place, Place):
        place = given_place
    elif given_place is not None:
        if str(given_place).isdigit():
            place = Place.objects.filter(pk=int(str(given_place))).select_related("area").first()
        if place is None:
            problems.append(_("Unknown place %(place)r.") % {"place": given_place})
    point, wrong = _parse_point(raw.get("lon"), raw.get("lat"))
    problems += wrong

    grid: Area | None = None
    if place is not None:
        grid = _grid_of(place.area)
        if point is None and place.lon is not None and place.lat is not None:
            point = (place.lon, place.lat)
        address = address or place.address
        if grid is None:
            problems.append(_("The place %(place)s is not in a grid.") % {"place": place})
    elif point is not None:
        grid = _grid_of(area_locate(point[0], point[1], on=on))
        if grid is None:
            problems.append(
                _("(%(lon)s, %(lat)s) lies inside no grid.") % {"lon": point[0], "lat": point[1]}
            )
    elif given_place is None and not wrong:
        problems.append(_("Give a place or a location (lon, lat)."))
    lon, lat = point if point is not None else (None, None)
    if problems:
        return None, problems
    return {
        "place": place,
        "lon": lon,
        "lat": lat,
        "address": address,
        "problem": problem,
        "photo": raw["photo"],
        "grid": grid,
    }, []


def _slips_error(errors: list[dict[str, Any]], exc_class: type[GridgovError]) -> GridgovError:
    summary = "; ".join(f"#{e['number']}: {' '.join(e['errors'])}" for e in errors)
    message = ngettext(
        "%(count)d slip was refused, so no slip was issued: %(summary)s",
        "%(count)d slips were refused, so no slip was issued: %(summary)s",
        len(errors),
    ) % {"count": len(errors), "summary": summary}
    return exc_class(message, details={"slips": errors})


def campaign_issue(
    *,
    actor: Any,
    title: str,
    task_type: TaskType,
    deadline: dt.datetime,
    slips: Sequence[Mapping[str, Any]],
    month: dt.date | str | None = None,
    description: str = "",
    now: dt.datetime | None = None,
) -> Campaign:
    """Issue a batch of assignment slips, each becoming one dispatched task of its grid.

    ``slips``: a list of dicts with ``problem`` (text), ``photo`` (an uploaded image:
    JPEG, PNG, WebP or HEIC by its bytes, at most ``tasks.evidence.PHOTO_MAX_BYTES``), and
    either ``place`` (a ``Place`` or its id; its grid receives the task, its location and
    address fill in the slip's) or
    ``lon``/``lat`` (WGS84; the grid containing the point receives it), plus an optional
    ``address``. Slips are numbered 1… in the order given. ``deadline``: aware, after
    ``now`` and within ``core.calendar.DEADLINE_HORIZON_DAYS`` (366) days of it
    (``core.calendar.deadline_set_by_hand_check``), the deadline of every slip's task.
    ``month``: the month of the "三个一" cycle (a date or ``"YYYY-MM"``, years 1970–9998),
    or ``None`` for a batch outside the cycle. ``actor``: the command centre, or a
    community admin over every slip's grid (``None`` = system).

    All or nothing: any bad slip rejects the whole batch, with every slip's problems in
    ``details={"slips": [{"number": n, "errors": [...]}]}``. Raises ``ValidationFailed``
    (bad batch or slips), ``PermissionDenied`` (role; slips outside the actor's areas,
    listed the same way).
    """
    now = now or timezone.now()
    if actor is not None and not user_holds_role(actor, CAMPAIGN_ISSUER_ROLES):
        raise PermissionDenied(
            _("Only the command centre or a community admin may issue assignment slips.")
        )
    title = (title or "").strip()
    if not title:
        raise ValidationFailed(_("A campaign needs a title."))
    if len(title) > TITLE_MAX:
        # The slips' tasks are titled "<title> #<number>", at most 200 characters.
        raise ValidationFailed(
            _("A campaign title has at most %(max)d characters.") % {"max": TITLE_MAX}
        )
    if timezone.is_naive(deadline):
        raise ValidationFailed(_("The deadline must carry a time zone."))
    deadline_set_by_hand_check(deadline, now=now)
    first_day = campaign_month(month)
    slips = list(slips)
    if not slips:
        raise ValidationFailed(_("A campaign needs at least one slip."))

    on = timezone.localdate(now)
    clean: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for number, raw in enumerate(slips, start=1):
        values, problems = _resolve_slip(raw, on=on)
        if problems:
            errors.append({"number": number, "errors": problems})
        else:
            clean.append({"number": number, **(values or {})})
    if errors:
        raise _slips_error(errors, ValidationFailed)
    if actor is not None:
        denied = [
            {
                "number": s["number"],
                "errors": [
                    _("%(grid)s is outside the areas you may issue slips to.") % {"grid": s["grid"]}
                ],
            }
            for s in clean
            if not user_can_access_area(actor, s["grid"], roles=CAMPAIGN_ISSUER_ROLES)
        ]
        if denied:
            raise _slips_error(denied, PermissionDenied)
    area = _common_area(s["grid"] for s in clean)
    if area is None:
        raise ValidationFailed(_("The slips lie in more than one district."))

    from gridgov.tasks.services import task_create

    saved_files: list[AssignmentSlip] = []
    try:
        with transaction.atomic():
            campaign = Campaign.objects.create(
                title=title,
                description=(description or "").strip(),
                task_type=task_type,
                area=area,
                issued_by=actor,
                issued_at=now,
                deadline=deadline,
                month=first_day,
            )
            for s in clean:
                photo = s["photo"]
                if not isinstance(photo, File):
                    photo = File(photo, name=getattr(photo, "name", None))
                slip = AssignmentSlip(
                    campaign=campaign,
                    number=s["number"],
                    place=s["place"],
                    lon=s["lon"],
                    lat=s["lat"],
                    address=s["address"],
                    problem=s["problem"],
                    area=s["grid"],
                )
                slip.photo.save((photo.name or "photo").rsplit("/", 1)[-1], photo, save=False)
                saved_files.append(slip)
                slip.save()
                try:
                    slip.task = task_create(
                        actor=actor,
                        source=TaskSource.CAMPAIGN,
                        task_type=task_type,
                        area=s["grid"],
                        lon=s["lon"],
                        lat=s["lat"],
                        title=f"{title} #{s['number']}",
                        description=s["problem"],
                        target_place=s["place"],
                        deadline=deadline,
                        source_key=f"campaign:{slip.pk}",
                        now=now,
                    )
                except GridgovError as exc:
                    raise type(exc)(
                        _("Slip #%(number)d: %(message)s")
                        % {"number": s["number"], "message": exc.message},
                        details={"slips": [{"number": s["number"], "errors": [exc.message]}]},
                        code=exc.code,
                    ) from exc
                slip.save(update_fields=["task"])
    except BaseException:
        # Files are not transactional: remove those of a batch that was rolled back.
        for slip in saved_files:
            slip.photo.delete(save=False)
        raise
    return campaign


# --- rectification and verification ---------------------------------------------------------


def _feedback_event(task: Task) -> TaskEvent | None:
    """The task's latest feedback row (the rectification under review)."""
    return (
        TaskEvent.objects.filter(task=task, action=TaskAction.SUBMIT_FEEDBACK)
        .order_by("-at", "-id")
        .first()
    )


def slip_evidence_kinds(slip: AssignmentSlip) -> set[str]:
    """Return the attachment kinds of the slip's latest rectification (e.g. ``{"before",
    "after"}``); empty when there is none."""
    if slip.task is None:
        return set()
    event = _feedback_event(slip.task)
    if event is None:
        return set()
    return set(TaskAttachment.objects.filter(event=event).values_list("kind", flat=True))


def _slip_task(slip: AssignmentSlip) -> Task:
    if slip.task_id is None:
        raise ValidationFailed(_("Slip %(slip)s has no task.") % {"slip": slip})
    # Fresh from the database: the state is compared-and-set on save.
    return Task.objects.get(pk=slip.task_id)


def campaign_slip_submit_rectification(
    *,
    actor: Any,
    slip: AssignmentSlip,
    note: str,
    before_photos: Sequence[Any],
    after_photos: Sequence[Any],
    lon: float | None = None,
    lat: float | None = None,
    answers: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Submit a slip's rectification (整改反馈): the task's feedback with before and after
    photos.

    ``before_photos``/``after_photos``: at least one image each (JPEG, PNG, WebP or HEIC by
    its bytes, at most ``tasks.evidence.PHOTO_MAX_BYTES``); they are attached to the
    feedback row with ``kind`` ``"before"`` / ``"after"``. ``lon``/``lat``: the worker's
    WGS84 location. The rest is ``tasks.services.task_submit_feedback``'s (role, area,
    state, the rule's evidence, idempotency). Returns the task, now ``handled``.

    Raises ``ValidationFailed`` (missing or bad photos, and whatever the feedback refuses),
    ``PermissionDenied``, ``Conflict`` as ``task_submit_feedback``.
    Source: 查督改验 loop of the Linglong/Qianchuan campaigns (整改前后对比照片).
    """
    from gridgov.tasks.services import task_submit_feedback

    before_photos, after_photos = list(before_photos or []), list(after_photos or [])
    problems: list[str] = []
    if not before_photos:
        problems.append(_("A rectification needs at least one photo from before."))
    if not after_photos:
        problems.append(_("A rectification needs at least one photo from after."))
    for photo in before_photos:
        problems += _photo_problems(photo, label=_("The before photo"))
    for photo in after_photos:
        problems += _photo_problems(photo, label=_("The after photo"))
    if problems:
        raise ValidationFailed(" ".join(problems), details={"photos": problems})
    task = _slip_task(slip)
    with transaction.atomic():
        return task_submit_feedback(
            actor=actor,
            task=task,
            note=note,
            lon=lon,
            lat=lat,
            photos=before_photos + after_photos,
            kinds=[BEFORE] * len(before_photos) + [AFTER] * len(after_photos),
            answers=dict(answers or {}),
            idempotency_key=idempotency_key,
            now=now,
        )


def campaign_slip_verify(
    *,
    actor: Any,
    slip: AssignmentSlip,
    passed: bool,
    note: str = "",
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Verify a slip's rectification (验收): pass → the task closes; fail → rework.

    A pass needs the latest rectification to carry before **and** after photos, so a
    slip handled without them (e.g. through the plain feedback) cannot close. The rest is
    ``tasks.services.task_verify``'s (who may verify, state, idempotency).
    Raises ``ValidationFailed`` (photos missing), ``PermissionDenied``, ``Conflict``.
    """
    from gridgov.tasks.services import task_verify

    task = _slip_task(slip)
    if passed:
        missing = {BEFORE, AFTER} - slip_evidence_kinds(slip)
        if missing:
            raise ValidationFailed(
                _(
                    "Slip %(slip)s cannot pass verification: its rectification lacks %(kinds)s "
                    "photos."
                )
                % {"slip": slip, "kinds": " / ".join(str(KIND_LABELS[k]) for k in sorted(missing))},
                details={"missing": sorted(missing)},
            )
    with transaction.atomic():
        return task_verify(
            actor=actor,
            task=task,
            passed=passed,
            note=note,
            idempotency_key=idempotency_key,
            now=now,
        )
