"""Admin for the inbox (each user their own), the outbox (superusers and the command
centre) and the supervision list (the command centre, scoped to its areas).

All three are read-only lists with actions; rows are written by the services only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from gridgov.notifications import selectors as notification_selectors
from gridgov.notifications import services
from gridgov.notifications.models import Notification, OutboxMessage, SupervisionRecord
from gridgov.people import selectors
from gridgov.people.admin_access import ScopedAdmin
from gridgov.people.choices import Role

COMMAND_CENTRE = frozenset({Role.COMMAND_CENTRE})


def _is_superuser(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


class ReadOnlyMixin:
    """Rows come from the services: nobody adds, edits or deletes them here."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadFilter(admin.SimpleListFilter):
    title = _("read")
    parameter_name = "read"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("no", _("Unread")), ("yes", _("Read"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "no":
            return queryset.filter(read_at=None)
        if self.value() == "yes":
            return queryset.exclude(read_at=None)
        return queryset


@admin.register(Notification)
class NotificationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The inbox: every staff user sees their own notifications; superusers see all."""

    list_display = ("title", "kind", "task", "recipient", "created_at", "read_at")
    list_filter = (ReadFilter, "kind", "created_at")
    search_fields = ("title", "body", "task__number")
    list_select_related = ("task", "recipient")
    raw_id_fields = ("task", "recipient")
    date_hierarchy = "created_at"
    actions = ["mark_read"]
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[Notification]:
        qs = super().get_queryset(request)
        return qs if _is_superuser(request) else qs.filter(recipient_id=request.user.pk)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not self.has_module_permission(request):
            return False
        return obj is None or _is_superuser(request) or obj.recipient_id == request.user.pk

    @admin.action(description=_("Mark as read"), permissions=["view"])
    def mark_read(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        count = services.notification_mark_read(
            actor=request.user, ids=queryset.values_list("id", flat=True)
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d notification marked read.",
                "%(count)d notifications marked read.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The outbox, for superusers and the command centre (the messages to people inside its
    areas): what was sent, what is failing."""

    list_display = (
        "id",
        "channel",
        "target",
        "kind",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "created_at",
    )
    list_filter = ("status", "channel", "kind", "created_at")
    search_fields = ("target", "last_error", "dedupe_key")
    raw_id_fields = ("recipient",)
    date_hierarchy = "created_at"
    actions = ["retry"]
    list_per_page = 100

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutboxMessage]:
        return notification_selectors.outbox_list_visible_to(request.user).select_related(
            "recipient"
        )

    def _allowed(self, request: HttpRequest) -> bool:
        return _is_superuser(request) or selectors.user_holds_role(request.user, COMMAND_CENTRE)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    @admin.action(description=_("Retry now"), permissions=["view"])
    def retry(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        count = services.outbox_retry(actor=request.user, messages=queryset)
        self.message_user(
            request,
            ngettext("%(count)d message requeued.", "%(count)d messages requeued.", count)
            % {"count": count},
            messages.SUCCESS,
        )


class OpenFilter(admin.SimpleListFilter):
    title = _("open")
    parameter_name = "open"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Open")), ("no", _("Resolved"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(resolved_at=None)
        if self.value() == "no":
            return queryset.exclude(resolved_at=None)
        return queryset


@admin.register(SupervisionRecord)
class SupervisionRecordAdmin(ReadOnlyMixin, ScopedAdmin):
    """The command centre's list of supervised (督办) tasks, inside its areas."""

    area_field = "task__area"
    write_roles = COMMAND_CENTRE
    list_display = (
        "task",
        "task_area",
        "task_assignee",
        "task_deadline",
        "level",
        "created_at",
        "resolved_at",
        "resolution",
    )
    list_filter = (OpenFilter, "resolution", "created_at")
    search_fields = ("task__number", "task__title", "task__area__name", "note")
    list_select_related = ("task", "task__area", "task__assignee")
    raw_id_fields = ("task", "resolved_by")
    date_hierarchy = "created_at"
    actions = ["resolve"]
    list_per_page = 50

    @admin.display(description=_("area"), ordering="task__area__code")
    def task_area(self, obj: SupervisionRecord) -> Any:
        return obj.task.area

    @admin.display(description=_("assignee"))
    def task_assignee(self, obj: SupervisionRecord) -> Any:
        return obj.task.assignee or "—"

    @admin.display(description=_("deadline"), ordering="task__deadline")
    def task_deadline(self, obj: SupervisionRecord) -> Any:
        return obj.task.deadline

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        return _is_superuser(request) or selectors.user_holds_role(request.user, COMMAND_CENTRE)

    @admin.action(description=_("Mark resolved"), permissions=["resolve"])
    def resolve(self, request: HttpRequest, queryset: QuerySet[SupervisionRecord]) -> None:
        count = services.supervision_resolve(actor=request.user, records=queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d supervision record resolved.",
                "%(count)d supervision records resolved.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
