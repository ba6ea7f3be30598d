"""Load the official holidays the chinesecalendar package knows (2004–2026 for 1.11).

A fresh database thus knows those years at once; ``gridgov calendar sync`` reloads them
later (e.g. after upgrading the package) without touching rows entered by hand.
"""

from django.db import migrations


def load(apps, schema_editor):
    from gridgov.core.calendar_package import package_days, package_version, package_years

    CalendarDay = apps.get_model("core", "CalendarDay")
    CalendarYear = apps.get_model("core", "CalendarYear")
    note = f"chinesecalendar {package_version()}"
    days, years = [], []
    for year in package_years():
        years.append(CalendarYear(year=year, source="package", note=note))
        days.extend(
            CalendarDay(date=day.date, is_working_day=day.is_working_day, name=day.name, source="package")
            for day in package_days(year)
        )
    CalendarYear.objects.bulk_create(years, ignore_conflicts=True)
    CalendarDay.objects.bulk_create(days, ignore_conflicts=True)


def unload(apps, schema_editor):
    apps.get_model("core", "CalendarDay").objects.filter(source="package").delete()
    apps.get_model("core", "CalendarYear").objects.filter(source="package").delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
