"""Admin for the working calendar: officials enter a year the package does not know yet.

Saves and deletes go through ``gridgov.core.services`` so that every row an official
saves is ``manual`` (never overwritten by ``gridgov calendar sync``) and the process's
calendar snapshot is dropped.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from gridgov.core import services
from gridgov.core.models import CalendarDay, CalendarSource, CalendarYear
from gridgov.people.admin_access import ReferenceDataAdmin


class YearListFilter(admin.SimpleListFilter):
    title = _("year")
    parameter_name = "year"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        years = CalendarDay.objects.dates("date", "year", order="DESC")
        return [(str(d.year), str(d.year)) for d in years]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(date__year=int(value))
        return queryset


@admin.register(CalendarDay)
class CalendarDayAdmin(ReferenceDataAdmin):
    list_display = ("date", "weekday", "is_working_day", "name", "source", "updated_at")
    list_filter = (YearListFilter, "is_working_day", "source")
    search_fields = ("name", "date")
    date_hierarchy = "date"
    ordering = ("-date",)
    fields = ("date", "is_working_day", "name", "source")

    def get_readonly_fields(self, request: HttpRequest, obj: CalendarDay | None = None) -> Any:
        # The date is the row's identity: delete and re-add instead of moving a row.
        return ("date", "source") if obj is not None else ("source",)

    @admin.display(description=_("weekday"))
    def weekday(self, obj: CalendarDay) -> str:
        return str(formats.date_format(obj.date, "l"))

    def save_model(self, request: HttpRequest, obj: CalendarDay, form: Any, change: bool) -> None:
        saved = services.calendar_day_set(
            date=obj.date, is_working_day=obj.is_working_day, name=obj.name
        )
        obj.pk, obj.source = saved.pk, saved.source
        obj.created_at, obj.updated_at = saved.created_at, saved.updated_at

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        services.calendar_day_delete(dates=[obj.date])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CalendarDay]) -> None:
        services.calendar_day_delete(dates=list(queryset.values_list("date", flat=True)))


@admin.register(CalendarYear)
class CalendarYearAdmin(ReferenceDataAdmin):
    list_display = ("year", "source", "day_count", "note", "updated_at")
    list_filter = ("source",)
    search_fields = ("year", "note")
    ordering = ("-year",)
    fields = ("year", "note", "source")

    def get_readonly_fields(self, request: HttpRequest, obj: CalendarYear | None = None) -> Any:
        return ("year", "source") if obj is not None else ("source",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[CalendarYear]:
        days = (
            CalendarDay.objects.filter(date__year=OuterRef("year"))
            .order_by()
            .values("date__year")
            .annotate(n=Count("id"))
            .values("n")
        )
        return super().get_queryset(request).annotate(day_count=Coalesce(Subquery(days), 0))

    @admin.display(description=_("days entered"), ordering="day_count")
    def day_count(self, obj: Any) -> int:
        return int(obj.day_count)

    def save_model(self, request: HttpRequest, obj: CalendarYear, form: Any, change: bool) -> None:
        # Editing a year's note keeps its source; a year added here is manual.
        source = CalendarSource(obj.source) if change else CalendarSource.MANUAL
        saved = services.calendar_year_mark_known(year=obj.year, note=obj.note, source=source)
        obj.pk, obj.source = saved.pk, saved.source
        obj.created_at, obj.updated_at = saved.created_at, saved.updated_at

    def delete_model(self, request: HttpRequest, obj: CalendarYear) -> None:
        services.calendar_year_forget(years=[obj.year])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CalendarYear]) -> None:
        services.calendar_year_forget(years=list(queryset.values_list("year", flat=True)))
