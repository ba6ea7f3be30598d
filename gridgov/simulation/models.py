"""What the simulator remembers: the days it has simulated, so a rerun skips them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SimulatedDay(models.Model):
    """One local day the simulator has run (``gridgov simulate``), with the run's seed, the
    area it was limited to (blank: everywhere) and what it did (``counts``: actions by name).

    Written at the end of the day's simulation: a day without a row is simulated again by
    the next run (reports carry a ``source_key``, so a half-simulated day does not get its
    reports twice).
    """

    day = models.DateField(_("day"), unique=True)
    seed = models.BigIntegerField(_("seed"))
    area_code = models.CharField(_("area code"), max_length=32, blank=True)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    simulated_at = models.DateTimeField(_("simulated at"))

    class Meta:
        verbose_name = _("simulated day")
        verbose_name_plural = _("simulated days")
        ordering = ["day"]

    def __str__(self) -> str:
        return self.day.isoformat()
