"""The task type's standards in two languages: ``filing_standard`` / ``closing_standard``
become ``…_zh`` (their data kept) beside new ``…_en`` texts (blank: readers see the
Chinese). Existing rows of the shipped default catalogue get its English here (see
``fill_default_english``); other rows keep a blank English until an import or the admin
gives one."""

from pathlib import Path
from typing import Any

import yaml
from django.db import migrations, models

DEFAULT_CATALOGUE = Path(__file__).resolve().parent.parent / "data" / "default.yaml"


def fill_default_english(apps: Any, schema_editor: Any) -> None:
    """Fill a blank ``…_en`` standard from the shipped ``data/default.yaml`` for rows whose
    code and Chinese standard are exactly the shipped ones (a street's own wording is never
    given a translation of different text). Reads the file as plain YAML, not through the
    current import schema, so a later schema change does not break this migration; a
    missing or unreadable file fills nothing."""
    try:
        data = yaml.safe_load(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))
        shipped = {t["code"]: t for t in data["task_types"]}
    except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError):
        return
    TaskType = apps.get_model("catalog", "TaskType")
    for task_type in TaskType.objects.filter(code__in=shipped):
        entry = shipped[task_type.code]
        changed = []
        for standard in ("filing_standard", "closing_standard"):
            chinese = str(entry.get(f"{standard}_zh", entry.get(standard)) or "").strip()
            english = str(entry.get(f"{standard}_en") or "").strip()
            if (
                english
                and not getattr(task_type, f"{standard}_en")
                and getattr(task_type, f"{standard}_zh") == chinese
            ):
                setattr(task_type, f"{standard}_en", english)
                changed.append(f"{standard}_en")
        if changed:
            task_type.save(update_fields=changed)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_tasktype_report_fields"),
    ]

    operations = [
        migrations.RenameField(
            model_name="tasktype", old_name="filing_standard", new_name="filing_standard_zh"
        ),
        migrations.RenameField(
            model_name="tasktype", old_name="closing_standard", new_name="closing_standard_zh"
        ),
        migrations.AlterField(
            model_name="tasktype",
            name="filing_standard_zh",
            field=models.TextField(
                help_text="When a report becomes a case (立案标准).",
                verbose_name="filing standard (Chinese)",
            ),
        ),
        migrations.AlterField(
            model_name="tasktype",
            name="closing_standard_zh",
            field=models.TextField(
                help_text="When a case may be closed (结案标准).",
                verbose_name="closing standard (Chinese)",
            ),
        ),
        migrations.AddField(
            model_name="tasktype",
            name="filing_standard_en",
            field=models.TextField(
                blank=True,
                default="",
                help_text="Shown to English users; blank: the Chinese is shown.",
                verbose_name="filing standard (English)",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="tasktype",
            name="closing_standard_en",
            field=models.TextField(
                blank=True,
                default="",
                help_text="Shown to English users; blank: the Chinese is shown.",
                verbose_name="closing standard (English)",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill_default_english, migrations.RunPython.noop, elidable=True),
    ]
