"""The default alarm rules (``gridgov.iot.rules.DEFAULTS``, with their sources) as rows
the command centre can change in the admin. Existing rows are left alone."""

from __future__ import annotations

from typing import Any

from django.db import migrations

DEFAULTS = {
    # rule: (threshold, window_hours, severity, note)
    "water_low_use": (10.0, 12.0, "major", "< 10 L in 12 h: Shanghai, Shenzhen Longgang"),
    "water_high_use": (2000.0, 24.0, "major", "> 2 m³ in a day: Shanghai Jing'an"),
    "water_continuous_flow": (0.0, 24.0, "major", "use in every half hour for 24 h: Longgang"),
    "smoke": (1.0, 0.0, "critical", "any alarm state"),
    "gas": (1.0, 0.0, "critical", "any alarm state"),
    "sos": (1.0, 0.0, "critical", "any press"),
    "offline": (10.0, 2.0, "major", "silent 10 min (SOS, smoke, gas) or 2 h (meters)"),
    "low_battery": (20.0, 0.0, "warning", "battery at or below 20%"),
}


def forwards(apps: Any, schema_editor: Any) -> None:
    AlarmRule = apps.get_model("iot", "AlarmRule")
    for rule, (threshold, window, severity, note) in DEFAULTS.items():
        if not AlarmRule.objects.filter(rule=rule, household__isnull=True).exists():
            AlarmRule.objects.create(
                rule=rule, threshold=threshold, window_hours=window, severity=severity, note=note
            )


class Migration(migrations.Migration):
    dependencies = [("iot", "0002_reading_partitioned")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
