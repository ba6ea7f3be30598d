"""The digital family (数字家庭): devices in households, their readings, alarm rules and
alarms (docs/iot.md).

Readings are kept raw for ``GRIDGOV_IOT_RAW_RETENTION_DAYS`` and as hourly aggregates for
good; on PostgreSQL the raw table is partitioned by month (migration 0002).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gridgov.core.models import TimeStampedModel
from gridgov.iot.choices import (
    OPEN_ALARM_STATES,
    AlarmAction,
    AlarmOutcome,
    AlarmState,
    DeviceKind,
    Metric,
    RejectReason,
    RuleCode,
    Severity,
)
from gridgov.iot.rules import detail_render


class Device(TimeStampedModel):
    """A device of a household's kit, known by its ``serial``.

    ``token_hash``: SHA-256 (hex) of the device's secret token, which is shown once at
    provisioning and never stored. ``battery_pct``: 0–100. ``last_seen``: when the last
    accepted message arrived (server time); ``last_measured_at``: the device's timestamp of
    the last applied message (readings are applied in that order); ``last_total``: the
    last cumulative meter value (L for water, Wh for electricity), to turn totals into use.
    """

    household = models.ForeignKey(
        "people.Household",
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="devices",
    )
    kind = models.CharField(_("kind"), max_length=24, choices=DeviceKind.choices)
    serial = models.CharField(_("serial number"), max_length=64, unique=True)
    token_hash = models.CharField(_("token hash"), max_length=64, editable=False)
    firmware = models.CharField(_("firmware"), max_length=32, blank=True)
    battery_pct = models.PositiveSmallIntegerField(_("battery (%)"), null=True, blank=True)
    last_seen = models.DateTimeField(_("last seen"), null=True, blank=True)
    last_measured_at = models.DateTimeField(_("last reading at"), null=True, blank=True)
    last_total = models.FloatField(_("last meter total"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["household_id", "kind", "serial"]
        indexes = [models.Index(fields=["active", "last_seen"], name="iot_device_seen_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=DeviceKind.values), name="iot_device_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(battery_pct__isnull=True) | Q(battery_pct__lte=100),
                name="iot_device_battery_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.serial} ({self.get_kind_display()})"


class Reading(models.Model):
    """One measured value of one message: ``metric`` in its unit (see ``Metric``).

    Raw, kept for the retention window. On PostgreSQL the table is partitioned by month
    of ``measured_at`` (its primary key is then ``(id, measured_at)``).
    """

    id = models.BigAutoField(primary_key=True)
    # Indexed by (device, measured_at) below; no index of its own (the table is the biggest).
    device = models.ForeignKey(
        Device, verbose_name=_("device"), on_delete=models.CASCADE, db_index=False
    )
    measured_at = models.DateTimeField(_("measured at"))
    metric = models.CharField(_("metric"), max_length=16, choices=Metric.choices)
    value = models.FloatField(_("value"))

    class Meta:
        verbose_name = _("reading")
        verbose_name_plural = _("readings")
        indexes = [models.Index(fields=["device", "measured_at"], name="iot_reading_device_at_idx")]

    def __str__(self) -> str:
        return f"{self.device_id} {self.metric}={self.value} @ {self.measured_at:%Y-%m-%d %H:%M}"


class HourlyAggregate(models.Model):
    """The readings of one device, metric and hour (UTC hour start): kept for good."""

    device = models.ForeignKey(Device, verbose_name=_("device"), on_delete=models.CASCADE)
    metric = models.CharField(_("metric"), max_length=16, choices=Metric.choices)
    hour = models.DateTimeField(_("hour"))
    count = models.PositiveIntegerField(_("count"), default=0)
    total = models.FloatField(_("sum"), default=0.0)
    minimum = models.FloatField(_("minimum"))
    maximum = models.FloatField(_("maximum"))
    last = models.FloatField(_("last value"))

    class Meta:
        verbose_name = _("hourly aggregate")
        verbose_name_plural = _("hourly aggregates")
        constraints = [
            models.UniqueConstraint(
                fields=["device", "metric", "hour"], name="iot_hourly_device_metric_hour_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.device_id} {self.metric} {self.hour:%Y-%m-%d %H}h"


class ProcessedMessage(models.Model):
    """A message id already applied for a device: a redelivery is dropped as a duplicate.

    Kept as long as the raw readings (``GRIDGOV_IOT_RAW_RETENTION_DAYS``).
    """

    device = models.ForeignKey(Device, verbose_name=_("device"), on_delete=models.CASCADE)
    message_id = models.CharField(_("message id"), max_length=64)
    received_at = models.DateTimeField(_("received at"), db_index=True)

    class Meta:
        verbose_name = _("processed message")
        verbose_name_plural = _("processed messages")
        constraints = [
            models.UniqueConstraint(
                fields=["device", "message_id"], name="iot_processed_device_message_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.device_id}:{self.message_id}"


class IngestCounter(models.Model):
    """How many messages a channel accepted (``outcome = "accepted"``) or rejected (a
    ``RejectReason``) on a local day."""

    day = models.DateField(_("day"))
    channel = models.CharField(_("channel"), max_length=8)
    outcome = models.CharField(_("outcome"), max_length=16)
    count = models.PositiveBigIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("ingestion counter")
        verbose_name_plural = _("ingestion counters")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "channel", "outcome"], name="iot_counter_day_channel_outcome_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.channel} {self.outcome}: {self.count}"


class IngestReject(models.Model):
    """One rejected message, with its reason (the log behind the counters)."""

    at = models.DateTimeField(_("at"), db_index=True)
    channel = models.CharField(_("channel"), max_length=8)
    serial = models.CharField(_("serial number"), max_length=64, blank=True)
    message_id = models.CharField(_("message id"), max_length=64, blank=True)
    reason = models.CharField(_("reason"), max_length=16, choices=RejectReason.choices)
    detail = models.CharField(_("detail"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("rejected message")
        verbose_name_plural = _("rejected messages")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.serial} {self.reason}"


class AlarmRule(TimeStampedModel):
    """A rule's setting: the default (no household) or one household's override.

    ``threshold`` and ``window_hours`` mean what the rule says (docs/iot.md): litres for
    the water rules, minutes for offline, per cent for low battery. Rows are created for
    every rule by migration 0003 with the defaults of ``rules.DEFAULTS``.
    """

    rule = models.CharField(_("rule"), max_length=24, choices=RuleCode.choices)
    household = models.ForeignKey(
        "people.Household",
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alarm_rules",
        help_text=_("Empty: the default for every household."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    threshold = models.FloatField(_("threshold"))
    window_hours = models.FloatField(_("window (hours)"), default=0)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("alarm rule")
        verbose_name_plural = _("alarm rules")
        ordering = ["rule", "household_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule"], condition=Q(household__isnull=True), name="iot_rule_default_uniq"
            ),
            models.UniqueConstraint(
                fields=["rule", "household"],
                condition=Q(household__isnull=False),
                name="iot_rule_household_uniq",
            ),
            models.CheckConstraint(
                condition=Q(rule__in=RuleCode.values), name="iot_rule_code_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} · {self.household_id or '*'}"


class RuleState(models.Model):
    """The window state of one rule for one device (so that a restart loses nothing).

    ``state``: the rule's own JSON (half-hour slot sums, the day's total…);
    ``ok_since``: when the condition of an open alarm last stopped holding (an alarm
    clears by itself only after it has stayed away ``GRIDGOV_IOT_CLEAR_AFTER_MINUTES``).
    """

    device = models.ForeignKey(Device, verbose_name=_("device"), on_delete=models.CASCADE)
    rule = models.CharField(_("rule"), max_length=24, choices=RuleCode.choices)
    state = models.JSONField(_("state"), default=dict)
    ok_since = models.DateTimeField(_("condition gone since"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("rule state")
        verbose_name_plural = _("rule states")
        constraints = [
            models.UniqueConstraint(
                fields=["device", "rule"], name="iot_rulestate_device_rule_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.device_id} {self.rule}"


class Alarm(TimeStampedModel):
    """An alarm of one device and rule: active → acknowledged → cleared.

    At most one open (active or acknowledged) alarm per device and rule — a conditional
    unique constraint; a repeat while open adds to ``count`` and moves ``last_at``.
    ``phone_due_at`` / ``visit_due_at``: the response ladder (phone, then a home visit);
    ``task``: the urgent task (异常工单) it became.
    """

    device = models.ForeignKey(
        Device, verbose_name=_("device"), on_delete=models.PROTECT, related_name="alarms"
    )
    household = models.ForeignKey(
        "people.Household",
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="alarms",
    )
    rule = models.CharField(_("rule"), max_length=24, choices=RuleCode.choices)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    state = models.CharField(
        _("state"), max_length=12, choices=AlarmState.choices, default=AlarmState.ACTIVE
    )
    count = models.PositiveIntegerField(_("count"), default=1)
    first_at = models.DateTimeField(_("first at"))
    last_at = models.DateTimeField(_("last at"))
    #: What the alarm shows: a key of ``rules.DETAILS`` and its parameters, rendered in
    #: the reader's language (``detail_display``); ``detail``: the same text in the site's
    #: language when raised (admin, exports), or a free text of an alarm raised without key.
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    detail_key = models.CharField(_("detail key"), max_length=24, blank=True)
    detail_params = models.JSONField(_("detail parameters"), default=dict, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cleared by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=AlarmOutcome.choices, blank=True
    )
    outcome_reason = models.CharField(_("reason"), max_length=200, blank=True)
    phone_due_at = models.DateTimeField(_("phone by"), null=True, blank=True)
    phoned_at = models.DateTimeField(_("phoned at"), null=True, blank=True)
    phone_answered = models.BooleanField(_("phone answered"), null=True, blank=True)
    visit_due_at = models.DateTimeField(_("visit by"), null=True, blank=True)
    phone_escalated_at = models.DateTimeField(_("phone step escalated at"), null=True, blank=True)
    visited_at = models.DateTimeField(_("visited at"), null=True, blank=True)
    task = models.OneToOneField(
        "tasks.Task",
        verbose_name=_("task"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alarm",
    )

    class Meta:
        verbose_name = _("alarm")
        verbose_name_plural = _("alarms")
        ordering = ["-last_at", "-id"]
        indexes = [
            models.Index(fields=["state", "severity"], name="iot_alarm_state_severity_idx"),
            models.Index(fields=["household", "state"], name="iot_alarm_household_state_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "rule"],
                condition=Q(state__in=OPEN_ALARM_STATES),
                name="iot_alarm_one_open_per_device_rule",
            ),
            models.CheckConstraint(
                condition=Q(state__in=AlarmState.values), name="iot_alarm_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(severity__in=Severity.values), name="iot_alarm_severity_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_rule_display()} · {self.device.serial}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_ALARM_STATES

    @property
    def detail_display(self) -> str:
        """The detail in the active language (``rules.DETAILS``); an alarm without a known
        key shows its stored ``detail``."""
        return detail_render(self.detail_key, self.detail_params) or self.detail


class AlarmEvent(models.Model):
    """One row of an alarm's timeline: who did what, when (``actor`` empty: the system)."""

    alarm = models.ForeignKey(
        Alarm, verbose_name=_("alarm"), on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField(_("action"), max_length=12, choices=AlarmAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("at"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("alarm event")
        verbose_name_plural = _("alarm events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.alarm_id} {self.action} @ {self.at:%Y-%m-%d %H:%M:%S}"
