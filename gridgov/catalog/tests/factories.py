"""factory_boy factories for the catalogue (rows created directly, bypassing the import).

Codes nest as the catalogue requires: a task type's code begins with its category's, a
rule's with its task type's.
"""

from __future__ import annotations

import itertools

import factory
from factory.django import DjangoModelFactory

from gridgov.catalog.choices import Priority, TargetKind
from gridgov.catalog.models import Category, TaskRule, TaskType
from gridgov.core.choices import TimeLimitUnit
from gridgov.people.choices import Role

_category_numbers = itertools.count(90)


class CategoryFactory(DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("code",)

    code = factory.LazyFunction(lambda: f"{next(_category_numbers) % 100:02d}")
    name_zh = factory.Sequence(lambda n: f"大类{n}")
    name_en = factory.Sequence(lambda n: f"Category {n}")


class TaskTypeFactory(DjangoModelFactory):
    class Meta:
        model = TaskType

    category = factory.SubFactory(CategoryFactory)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.category.code}{n % 100:02d}")
    name_zh = factory.Sequence(lambda n: f"主体任务{n}")
    name_en = factory.Sequence(lambda n: f"Task type {n}")
    filing_standard_zh = "发现即立案。"
    filing_standard_en = "A case is filed when found."
    closing_standard_zh = "处置完毕并上传照片后结案。"
    closing_standard_en = "Closed once handled and photos uploaded."
    handler_role = Role.GRID_WORKER
    handler_department = ""
    basis = "design"


class TaskRuleFactory(DjangoModelFactory):
    class Meta:
        model = TaskRule

    task_type = factory.SubFactory(TaskTypeFactory)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.task_type.code}{n % 100:02d}")
    name_zh = factory.Sequence(lambda n: f"任务规则{n}")
    name_en = factory.Sequence(lambda n: f"Task rule {n}")
    target_kind = TargetKind.GRID
    recurrence = "FREQ=WEEKLY;BYDAY=MO"
    time_limit_value = 7
    time_limit_unit = TimeLimitUnit.NATURAL_DAY
    priority = Priority.NORMAL
