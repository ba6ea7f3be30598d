"""Writes of the digital family: provisioning, ingestion, alarms and their response.

Ingestion (``readings_ingest``) is the one path of MQTT (``gridgov mqtt``) and HTTP
(``POST /api/v1/iot/ingest``): decode → check (unknown device, bad token, far future,
duplicate id, out of order) → store the readings, the hourly aggregates, the message id
→ evaluate the device's rules on their stored state → open, repeat or clear alarms → a
critical alarm becomes an urgent task at once. One transaction per batch, so a crash
leaves nothing half-written and an MQTT message is acknowledged only after its commit;
every rejected message is counted and logged with its reason. See docs/iot.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import hmac
import io
import json
import logging
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gridgov.catalog.models import TaskRule, TaskType
from gridgov.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gridgov.iot import payload as payloads
from gridgov.iot import rules
from gridgov.iot.choices import (
    FALSE_ALARM_OUTCOMES,
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
from gridgov.iot.models import (
    Alarm,
    AlarmEvent,
    AlarmRule,
    Device,
    IngestCounter,
    IngestReject,
    ProcessedMessage,
    Reading,
    RuleState,
)
from gridgov.people.choices import Role
from gridgov.people.models import Household
from gridgov.people.selectors import user_can_access_area

logger = logging.getLogger(__name__)

ACCEPTED = "accepted"
#: Roles that acknowledge, clear and record the response to an alarm (over its household).
RESPONDER_ROLES: frozenset[str] = frozenset(
    {Role.COMMAND_CENTRE, Role.COMMUNITY_ADMIN, Role.GRID_LEADER, Role.GRID_WORKER}
)
#: The catalogue's alarm task type and rules (gridgov/catalog/data/default.yaml, 0216).
ALARM_TASK_TYPE = "0216"
ALARM_RULE_CRITICAL = "021601"
ALARM_RULE_OTHER = "021602"
#: Response ladder (issue 6): phone within 5 min (critical) or 30 min; if nobody answers,
#: a home visit within 30 min (critical) or the same day (at least 2 hours).
PHONE_WITHIN = {True: dt.timedelta(minutes=5), False: dt.timedelta(minutes=30)}
VISIT_CRITICAL_WITHIN = dt.timedelta(minutes=30)
VISIT_OTHER_AT_LEAST = dt.timedelta(hours=2)
#: The catalogue form's answer for each outcome (result: handled / false_alarm / away).
FORM_RESULT: dict[str, str] = {
    AlarmOutcome.HANDLED: "handled",
    AlarmOutcome.FALSE_ALARM: "false_alarm",
    AlarmOutcome.METER_FAULT: "false_alarm",
    AlarmOutcome.RESOLVED: "false_alarm",
    AlarmOutcome.AWAY: "away",
}


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


# --- devices ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=200_000)
def device_token_hash(token: str) -> str:
    """Return the SHA-256 hex digest stored for a device token (tokens are 32 random
    bytes, so a fast hash is enough: there is nothing to guess)."""
    return hashlib.sha256(token.encode()).hexdigest()


def device_token_check(device: Device, token: str | None) -> bool:
    """Tell whether ``token`` is ``device``'s (constant-time comparison)."""
    return bool(token) and hmac.compare_digest(device_token_hash(token or ""), device.token_hash)


def _check_writer(actor: Any, household: Household) -> None:
    if actor is not None and not user_can_access_area(actor, household.area, roles=RESPONDER_ROLES):
        raise PermissionDenied(
            _("You have no role over the household's area."), details={"household": household.pk}
        )


def _device_check(kind: str, serial: str) -> str:
    serial = (serial or "").strip()
    if kind not in DeviceKind.values:
        raise ValidationFailed(
            _("Unknown device kind %(kind)s; use one of %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(DeviceKind.values)},
            details={"field": "kind"},
        )
    if not serial or len(serial) > 64 or any(c in serial for c in "/+# "):
        raise ValidationFailed(
            _("A serial number has 1–64 characters, without spaces, '/', '+' or '#'."),
            details={"field": "serial"},
        )
    return serial


@transaction.atomic
def device_provision(
    *, actor: Any, household: Household, kind: str, serial: str, firmware: str = ""
) -> tuple[Device, str]:
    """Create a device of ``household`` and return it with its new secret token.

    The token is returned once and only its SHA-256 is stored. Raises ``ValidationFailed``
    (unknown kind, bad or taken serial), ``PermissionDenied`` (the actor has no
    responder role over the household's area; ``None`` is the system).
    """
    _check_writer(actor, household)
    serial = _device_check(kind, serial)
    if Device.objects.filter(serial=serial).exists():
        raise ValidationFailed(
            _("Serial number %(serial)s is taken.") % {"serial": serial},
            details={"field": "serial", "serial": serial},
        )
    token = secrets.token_urlsafe(32)
    device = Device.objects.create(
        household=household,
        kind=kind,
        serial=serial,
        token_hash=device_token_hash(token),
        firmware=(firmware or "")[:32],
    )
    return device, token


@dataclass
class ProvisionReport:
    """What a CSV provisioning did: ``created`` (serial, token) pairs, or per-row errors."""

    created: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


PROVISION_COLUMNS = ("household", "kind", "serial")


def devices_provision_csv(*, actor: Any, text: str) -> ProvisionReport:
    """Provision devices from CSV text with columns ``household`` (id or ``ref``),
    ``kind``, ``serial`` and optionally ``firmware``.

    All or nothing: every row is checked first; with any error nothing is created and
    the report lists every row's problem (``"row N: …"``, N counting the header as row 1).
    Output: a ``ProvisionReport`` with the new tokens (shown once). A serial already
    provisioned for the same household and kind is skipped, so a rerun creates nothing.
    """
    report = ProvisionReport()
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in PROVISION_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        report.errors.append(_("missing columns: %(cols)s") % {"cols": ", ".join(missing)})
        return report
    rows: list[tuple[Household, str, str, str]] = []
    seen: set[str] = set()
    for number, row in enumerate(reader, start=2):
        try:
            household = _household_by_key((row.get("household") or "").strip())
            kind = (row.get("kind") or "").strip()
            serial = _device_check(kind, row.get("serial") or "")
            _check_writer(actor, household)
            if serial in seen:
                raise ValidationFailed(_("serial %(s)s appears twice") % {"s": serial})
            seen.add(serial)
            existing = Device.objects.filter(serial=serial).first()
            if existing is not None:
                if existing.household_id == household.pk and existing.kind == kind:
                    continue  # provisioned by an earlier run
                raise ValidationFailed(_("serial %(s)s is taken") % {"s": serial})
            rows.append((household, kind, serial, (row.get("firmware") or "").strip()))
        except (ValidationFailed, NotFound, PermissionDenied) as exc:
            report.errors.append(_("row %(n)d: %(msg)s") % {"n": number, "msg": exc.message})
    if report.errors:
        return report
    with transaction.atomic():
        for household, kind, serial, firmware in rows:
            device, token = device_provision(
                actor=actor, household=household, kind=kind, serial=serial, firmware=firmware
            )
            report.created.append((device.serial, token))
    return report


def _household_by_key(key: str) -> Household:
    if not key:
        raise ValidationFailed(_("household is empty"))
    query = Q(ref=key)
    if key.isdigit():
        query |= Q(pk=int(key))
    found = list(Household.objects.filter(query).select_related("area")[:2])
    if len(found) != 1:
        raise NotFound(
            _("no household %(key)s") % {"key": key}
            if not found
            else _("household %(key)s is ambiguous") % {"key": key}
        )
    return found[0]


# --- rule settings ------------------------------------------------------------------------


def rule_settings(household_ids: Iterable[int]) -> dict[int | None, dict[str, rules.RuleSetting]]:
    """Return the effective rule settings: ``{None: defaults, household id: overrides}``.

    Defaults are the ``AlarmRule`` rows without household (else ``rules.DEFAULTS``); a
    household's dict holds only its overrides. Look one up with ``setting_for``.
    """
    result: dict[int | None, dict[str, rules.RuleSetting]] = {None: dict(rules.DEFAULTS)}
    ids = list(set(household_ids))
    query = Q(household__isnull=True)
    if ids:
        query |= Q(household_id__in=ids)
    for row in AlarmRule.objects.filter(query):
        setting = rules.RuleSetting(
            row.rule, row.enabled, row.threshold, row.window_hours, row.severity
        )
        result.setdefault(row.household_id, {})[row.rule] = setting
    return result


def setting_for(
    table: dict[int | None, dict[str, rules.RuleSetting]], household_id: int, rule: str
) -> rules.RuleSetting:
    """The setting of ``rule`` for a household: its override, else the default."""
    own = table.get(household_id)
    if own and rule in own:
        return own[rule]
    return table[None][rule]


# --- ingestion ----------------------------------------------------------------------------


@dataclass
class IncomingMessage:
    """A message as a channel received it: the raw ``payload`` (bytes, text or parsed
    JSON), the ``serial`` when the channel knows it (the MQTT topic), the ``token`` when
    the channel carries it apart (the HTTP header)."""

    payload: Any
    serial: str | None = None
    token: str | None = None


@dataclass
class IngestResult:
    """The fate of one message: ``accepted``, or ``reason`` (a ``RejectReason``) and a
    ``detail``; ``alarms``: ids of alarms it raised."""

    accepted: bool
    reason: str = ""
    detail: str = ""
    serial: str = ""
    message_id: str = ""
    alarms: list[int] = field(default_factory=list)


def reading_ingest(
    *,
    payload: Any,
    serial: str | None = None,
    token: str | None = None,
    channel: str = "http",
    now: dt.datetime | None = None,
) -> IngestResult:
    """Ingest one message (see ``readings_ingest``)."""
    return readings_ingest(
        messages=[IncomingMessage(payload=payload, serial=serial, token=token)],
        channel=channel,
        now=now,
    )[0]


def readings_ingest(
    *, messages: Sequence[IncomingMessage], channel: str, now: dt.datetime | None = None
) -> list[IngestResult]:
    """Ingest a batch of device messages; return one ``IngestResult`` per message.

    Per device, messages are applied in the order of their timestamps; a message is
    rejected (never raised) as ``malformed`` (docs/iot.md formats), ``unknown_device``,
    ``inactive``, ``bad_token``, ``far_future`` (more than ``GRIDGOV_IOT_MAX_FUTURE_SECONDS``
    ahead of ``now``), ``duplicate`` (a message id already applied for the device) or
    ``out_of_order`` (older than the device's last applied reading). Accepted messages
    store their values (``Reading``, units of ``Metric``), the hourly aggregates and the
    message id, update the device, and run the device's rules (alarms, urgent tasks) —
    all in one transaction with the counters (``IngestCounter``) and the reject log
    (``IngestReject``). If the batch fails as a whole (a race with another ingester), it
    is retried message by message. ``channel``: ``mqtt`` or ``http`` (for the counters).
    """
    now = _now(now)
    items: list[payloads.DeviceMessage | payloads.Undecoded] = []
    for incoming in messages:
        item = payloads.decode_safe(incoming.payload, serial=incoming.serial, now=now)
        if incoming.token is not None and isinstance(item, payloads.DeviceMessage):
            item.token = incoming.token
        items.append(item)
    return readings_apply(items=items, channel=channel, now=now)


def readings_apply(
    *,
    items: Sequence[payloads.DeviceMessage | payloads.Undecoded],
    channel: str,
    now: dt.datetime | None = None,
) -> list[IngestResult]:
    """Apply a batch of messages already decoded (``payload.decode_safe``: the MQTT reader
    process decodes them) as ``readings_ingest`` does; an ``Undecoded`` item is a counted
    and logged reject. Returns one ``IngestResult`` per item."""
    now = _now(now)
    results: list[IngestResult | None] = [None] * len(items)
    decoded: list[tuple[int, payloads.DeviceMessage]] = []
    for index, item in enumerate(items):
        if isinstance(item, payloads.Undecoded):
            results[index] = IngestResult(
                False, item.reason, item.detail, serial=(item.serial or "")[:64]
            )
        else:
            decoded.append((index, item))
    try:
        with transaction.atomic():
            _Batch(now).apply(decoded, results)
            final = [
                r if r is not None else IngestResult(False, RejectReason.ERROR) for r in results
            ]
            _outcomes_record(final, channel, now)
        return final
    except Exception:
        if len(decoded) <= 1:
            logger.exception("iot: ingestion of one message failed")
        else:
            logger.warning("iot: a batch of %d failed; retrying one by one", len(decoded))
    for index, message in decoded:
        try:
            with transaction.atomic():
                _Batch(now).apply([(index, message)], results)
        except IntegrityError:
            # Another ingester applied the same message id (or raised the same alarm)
            # between our read and our write: it stands, ours is the duplicate.
            results[index] = IngestResult(
                False, RejectReason.DUPLICATE, "raced", message.serial, message.message_id
            )
        except Exception as exc:
            logger.exception("iot: message %s of %s failed", message.message_id, message.serial)
            results[index] = IngestResult(
                False, RejectReason.ERROR, str(exc)[:200], message.serial, message.message_id
            )
    final = [r if r is not None else IngestResult(False, RejectReason.ERROR) for r in results]
    with transaction.atomic():
        _outcomes_record(final, channel, now)
    return final


def _outcomes_record(results: Sequence[IngestResult], channel: str, now: dt.datetime) -> None:
    counts = Counter(ACCEPTED if r.accepted else r.reason for r in results)
    day = timezone.localdate(now)
    for outcome, n in counts.items():
        updated = IngestCounter.objects.filter(day=day, channel=channel, outcome=outcome).update(
            count=F("count") + n
        )
        if not updated:
            IngestCounter.objects.create(day=day, channel=channel, outcome=outcome, count=n)
    rejects = [r for r in results if not r.accepted]
    for r in rejects:
        logger.info(
            "iot: rejected %s message %r of %r: %s", r.reason, r.message_id, r.serial, r.detail
        )
    IngestReject.objects.bulk_create(
        IngestReject(
            at=now,
            channel=channel,
            serial=r.serial[:64],
            message_id=r.message_id[:64],
            reason=r.reason,
            detail=r.detail[:500],
        )
        for r in rejects
    )


class _Batch:
    """One batch's working set: the devices, their rule states and open alarms, and the
    rows to write at the end."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.max_future = dt.timedelta(seconds=settings.GRIDGOV_IOT_MAX_FUTURE_SECONDS)
        self.clear_after = dt.timedelta(minutes=settings.GRIDGOV_IOT_CLEAR_AFTER_MINUTES)
        # device, measured at (as the driver takes it: ``adapt``), metric, value
        self.readings: list[tuple[int, Any, str, float]] = []
        self.processed: list[tuple[int, str]] = []  # device, message id
        self.aggregates: dict[tuple[int, str, dt.datetime], list[float]] = {}
        self.states: dict[tuple[int, str], RuleState] = {}
        self.new_states: set[tuple[int, str]] = set()
        self.dirty_states: set[tuple[int, str]] = set()
        self.alarms: dict[tuple[int, str], Alarm] = {}
        self.settings: dict[int | None, dict[str, rules.RuleSetting]] = {None: dict(rules.DEFAULTS)}
        self.rules_of: dict[int, list[tuple[str, rules.RuleSetting]]] = {}
        self.adapt = _db_time_adapter()
        # A time → (its UTC hour, the value the driver takes): messages share their times.
        self.times: dict[dt.datetime, tuple[dt.datetime, Any]] = {}
        self.tz = timezone.get_current_timezone()  # the local day of water_high_use

    def apply(
        self,
        decoded: list[tuple[int, payloads.DeviceMessage]],
        results: list[IngestResult | None],
    ) -> None:
        serials = {m.serial for _i, m in decoded}
        devices = {
            d.serial: d
            for d in Device.objects.select_for_update().filter(serial__in=serials).order_by("pk")
        }
        ids = [d.id for d in devices.values()]
        seen = _processed_seen(ids, {m.message_id for _i, m in decoded})
        self.settings = rule_settings(d.household_id for d in devices.values())
        for state in RuleState.objects.filter(device_id__in=ids):
            self.states[(state.device_id, state.rule)] = state
        for alarm in Alarm.objects.filter(device_id__in=ids, state__in=OPEN_ALARM_STATES):
            self.alarms[(alarm.device_id, alarm.rule)] = alarm
        touched: dict[int, Device] = {}
        future_limit = self.now + self.max_future
        for index, message in sorted(decoded, key=lambda im: im[1].measured_at):
            result = IngestResult(False, serial=message.serial, message_id=message.message_id)
            results[index] = result
            device = devices.get(message.serial)
            if device is None:
                result.reason = RejectReason.UNKNOWN_DEVICE
            elif not device.active:
                result.reason = RejectReason.INACTIVE
            elif not device_token_check(device, message.token):
                result.reason = RejectReason.BAD_TOKEN
            elif message.measured_at > future_limit:
                result.reason = RejectReason.FAR_FUTURE
                result.detail = message.measured_at.isoformat()
            elif (device.id, message.message_id) in seen:
                result.reason = RejectReason.DUPLICATE
            elif device.last_measured_at and message.measured_at < device.last_measured_at:
                result.reason = RejectReason.OUT_OF_ORDER
                result.detail = message.measured_at.isoformat()
            else:
                seen.add((device.id, message.message_id))
                self._accept(device, message, result)
                touched[device.id] = device
        self._flush(list(touched.values()))

    # --- one accepted message ---

    def _accept(
        self, device: Device, message: payloads.DeviceMessage, result: IngestResult
    ) -> None:
        at = message.measured_at
        result.accepted = True
        self.processed.append((device.id, message.message_id))
        values: dict[str, float] = {}
        water_use: float | None = None
        for metric, value, when in message.values:
            self._store(device, metric, value, when)
            values[metric] = value
            if metric == Metric.WATER_USE_L:
                water_use = (water_use or 0.0) + value
        total_metric = (
            Metric.WATER_TOTAL_L if device.kind == DeviceKind.WATER_METER else Metric.ENERGY_WH
        )
        if total_metric in values:
            total = values[total_metric]
            delta = 0.0
            if device.last_total is not None and total >= device.last_total:
                delta = total - device.last_total
            # A total below the last one is a meter reset or swap: a new base, no use.
            device.last_total = total
            if total_metric == Metric.WATER_TOTAL_L and water_use is None:
                water_use = delta
                self._store(device, Metric.WATER_USE_L, delta, at)
        if Metric.BATTERY_PCT in values:
            device.battery_pct = round(values[Metric.BATTERY_PCT])
        if message.firmware:
            device.firmware = message.firmware
        device.last_seen = self.now
        device.last_measured_at = at
        for rule, setting in self._rules_of(device):
            verdict = self._evaluate(device, rule, setting, values, water_use, at)
            if verdict.fire is not None:
                raised = self.verdict_apply(device, rule, verdict, at)
                if raised is not None:
                    result.alarms.append(raised)
        if (device.id, RuleCode.OFFLINE) in self.alarms:
            self.verdict_apply(device, RuleCode.OFFLINE, rules.FINE, at)

    def _rules_of(self, device: Device) -> list[tuple[str, rules.RuleSetting]]:
        """The enabled rules watching ``device`` with their settings (once per batch)."""
        found = self.rules_of.get(device.id)
        if found is None:
            found = []
            for rule in rules.RULES_BY_KIND.get(device.kind, ()):
                setting = setting_for(self.settings, device.household_id, rule)
                if setting.enabled:
                    found.append((rule, setting))
            self.rules_of[device.id] = found
        return found

    def _store(self, device: Device, metric: str, value: float, when: dt.datetime) -> None:
        known = self.times.get(when)
        if known is None:
            hour = when.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
            known = self.times[when] = (hour, self.adapt(when))
        hour, stamp = known
        self.readings.append((device.id, stamp, metric, value))
        key = (device.id, metric, hour)
        agg = self.aggregates.get(key)
        if agg is None:
            self.aggregates[key] = [1, value, value, value, value]
        else:
            agg[0] += 1
            agg[1] += value
            agg[2] = min(agg[2], value)
            agg[3] = max(agg[3], value)
            agg[4] = value

    def state(self, device: Device, rule: str) -> RuleState:
        key = (device.id, rule)
        state = self.states.get(key)
        if state is None:
            state = RuleState(device=device, rule=rule, state={})
            self.states[key] = state
            self.new_states.add(key)
        self.dirty_states.add(key)
        return state

    def _evaluate(
        self,
        device: Device,
        rule: str,
        setting: rules.RuleSetting,
        values: dict[str, float],
        water_use: float | None,
        at: dt.datetime,
    ) -> rules.Verdict:
        if rule == RuleCode.LOW_BATTERY:
            if Metric.BATTERY_PCT not in values:
                return rules.NOTHING
            is_open = (device.id, rule) in self.alarms
            return rules.low_battery({}, setting, values[Metric.BATTERY_PCT], is_open)
        if rule in rules.STATE_METRIC:
            metric = rules.STATE_METRIC[rule]
            if metric not in values:
                return rules.NOTHING
            return rules.state_alarm(
                self.state(device, rule).state, values[metric], press=rule == RuleCode.SOS
            )
        if rule == RuleCode.WATER_LOW_USE:
            return rules.water_low_use(self.state(device, rule).state, setting, at, water_use)
        if water_use is None:
            return rules.NOTHING
        if rule == RuleCode.WATER_HIGH_USE:
            return rules.water_high_use(
                self.state(device, rule).state, setting, at.astimezone(self.tz).date(), water_use
            )
        if rule == RuleCode.WATER_CONTINUOUS_FLOW:
            return rules.water_continuous_flow(
                self.state(device, rule).state, setting, at, water_use
            )
        return rules.NOTHING

    def verdict_apply(
        self, device: Device, rule: str, verdict: rules.Verdict, at: dt.datetime
    ) -> int | None:
        """Turn a verdict into alarm changes; return the id of a newly raised alarm."""
        key = (device.id, rule)
        alarm = self.alarms.get(key)
        if verdict.fire:
            state = self.state(device, rule)
            flapped = state.ok_since is not None
            state.ok_since = None
            if alarm is None:
                setting = setting_for(self.settings, device.household_id, rule)
                alarm = alarm_raise(
                    device=device,
                    rule=rule,
                    severity=setting.severity,
                    at=at,
                    detail_key=verdict.detail_key,
                    detail_params=verdict.detail_params,
                    now=self.now,
                )
                self.alarms[key] = alarm
                return alarm.pk
            if verdict.edge or flapped:
                _alarm_repeat(alarm, at, _detail_stored(verdict.detail_key, verdict.detail_params))
            return None
        if alarm is None or rule in rules.STICKY_RULES:
            return None
        state = self.state(device, rule)
        if state.ok_since is None:
            state.ok_since = at
        elif at - state.ok_since >= self.clear_after:
            _alarm_close(
                alarm,
                actor=None,
                outcome=AlarmOutcome.RESOLVED,
                reason="",
                now=self.now,
                note=_("The condition has gone."),
            )
            del self.alarms[key]
            state.ok_since = None
        return None

    def _flush(self, devices: list[Device]) -> None:
        # One statement per table (``_rows_insert`` / ``_rows_update``): the ORM's
        # bulk_update (a CASE per column and row) and bulk_create cost more than the
        # database itself at these volumes.
        at = self.adapt
        state_field = RuleState._meta.get_field("state")
        now = at(self.now)
        with connection.cursor() as cursor:
            _rows_insert(cursor, "iot_reading", READING_COLUMNS, self.readings)
            _rows_insert(
                cursor, "iot_processedmessage", PROCESSED_COLUMNS,
                [(d, mid, now) for d, mid in self.processed],
            )  # fmt: skip
            _aggregates_upsert(cursor, self.aggregates, at)
            new = [self.states[k] for k in self.new_states]
            RuleState.objects.bulk_create(new, batch_size=1000)
            old = [self.states[k] for k in self.dirty_states - self.new_states]
            encoder = getattr(state_field, "encoder", None)
            _rows_update(
                cursor, "iot_rulestate", RULE_STATE_COLUMNS,
                [(json.dumps(s.state, cls=encoder), at(s.ok_since), now, s.id) for s in old],
            )  # fmt: skip
            _rows_update(
                cursor, "iot_device", DEVICE_COLUMNS,
                [
                    (at(d.last_seen), at(d.last_measured_at), d.last_total, d.battery_pct,
                     d.firmware, d.id)
                    for d in devices
                ],
            )  # fmt: skip


def _processed_seen(device_ids: list[int], message_ids: set[str]) -> set[tuple[int, str]]:
    """The (device id, message id) pairs among ``device_ids`` × ``message_ids`` already
    applied (``ProcessedMessage``): one query with two arrays (PostgreSQL) or two ``IN``
    lists (SQLite) — the ORM's lookup of a thousand values costs more than the query."""
    if not device_ids or not message_ids:
        return set()
    table = ProcessedMessage._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT device_id, message_id FROM {table} "  # noqa: S608
                "WHERE device_id = ANY(%s) AND message_id = ANY(%s)",
                [device_ids, list(message_ids)],
            )
        else:
            found: set[tuple[int, str]] = set()
            mids = list(message_ids)
            devices = ", ".join(["%s"] * len(device_ids))
            for start in range(0, len(mids), 30_000):  # SQLite's limit of 32,766 parameters
                chunk = mids[start : start + 30_000]
                cursor.execute(
                    f"SELECT device_id, message_id FROM {table} "  # noqa: S608
                    f"WHERE device_id IN ({devices}) AND message_id IN "
                    f"({', '.join(['%s'] * len(chunk))})",
                    [*device_ids, *chunk],
                )
                found.update((d, m) for d, m in cursor.fetchall())
            return found
        return {(d, m) for d, m in cursor.fetchall()}


#: Columns written per batch, with their PostgreSQL types (for ``unnest`` arrays).
READING_COLUMNS = (
    ("device_id", "bigint"), ("measured_at", "timestamptz"), ("metric", "text"),
    ("value", "float8"),
)  # fmt: skip
PROCESSED_COLUMNS = (
    ("device_id", "bigint"),
    ("message_id", "text"),
    ("received_at", "timestamptz"),
)
AGGREGATE_COLUMNS = (
    ("device_id", "bigint"), ("metric", "text"), ("hour", "timestamptz"), ("count", "bigint"),
    ("total", "float8"), ("minimum", "float8"), ("maximum", "float8"), ("last", "float8"),
)  # fmt: skip
#: Updates: the row's ``id`` comes last.
RULE_STATE_COLUMNS = (
    ("state", "jsonb"), ("ok_since", "timestamptz"), ("updated_at", "timestamptz"),
    ("id", "bigint"),
)  # fmt: skip
DEVICE_COLUMNS = (
    ("last_seen", "timestamptz"), ("last_measured_at", "timestamptz"), ("last_total", "float8"),
    ("battery_pct", "integer"), ("firmware", "text"), ("id", "bigint"),
)  # fmt: skip


def _columns_as_arrays(columns: Sequence[tuple[str, str]]) -> str:
    """``unnest(%s::type[], …)`` of ``columns`` (PostgreSQL), the rows passed as one
    array per column: one statement for the whole batch."""
    return "unnest(" + ", ".join(f"%s::{pg_type}[]" for _name, pg_type in columns) + ")"


def _rows_insert(
    cursor: Any,
    table: str,
    columns: Sequence[tuple[str, str]],
    rows: list[tuple[Any, ...]],
    suffix: str = "",
) -> None:
    """Insert ``rows`` (tuples in the order of ``columns``) into ``table``: on
    PostgreSQL a ``COPY``, or with ``suffix`` (an ``ON CONFLICT`` clause) one ``INSERT …
    SELECT FROM unnest(arrays)``; on SQLite one ``executemany``."""
    if not rows:
        return
    names = ", ".join(name for name, _t in columns)
    if connection.vendor == "postgresql" and not suffix:
        # COPY: psycopg formats the rows in C (a list parameter is quoted in Python).
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    elif connection.vendor == "postgresql":
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT * FROM {_columns_as_arrays(columns)} "  # noqa: S608
            + suffix,
            [list(column) for column in zip(*rows, strict=True)],
        )
    else:
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks}) {suffix}", rows)  # noqa: S608


def _rows_update(
    cursor: Any, table: str, columns: Sequence[tuple[str, str]], rows: list[tuple[Any, ...]]
) -> None:
    """Update the rows of ``table`` whose ``id`` is each row's last value with the other
    values (in the order of ``columns``, ``id`` last): one ``UPDATE … FROM unnest(arrays)``
    on PostgreSQL, one ``executemany`` on SQLite."""
    if not rows:
        return
    names = [name for name, _t in columns[:-1]]
    if connection.vendor == "postgresql":
        sets = ", ".join(f"{name} = v.{name}" for name in names)
        cursor.execute(
            f"UPDATE {table} AS t SET {sets} FROM {_columns_as_arrays(columns)} "  # noqa: S608
            f"AS v({', '.join(name for name, _t in columns)}) WHERE t.id = v.id",
            [list(column) for column in zip(*rows, strict=True)],
        )
    else:
        sets = ", ".join(f"{name} = %s" for name in names)
        cursor.executemany(f"UPDATE {table} SET {sets} WHERE id = %s", rows)  # noqa: S608


def _db_time_adapter() -> Callable[[dt.datetime | None], Any]:
    """A function giving a datetime as the database driver takes it: aware for
    PostgreSQL; for SQLite the text of the naive UTC time, as Django stores it
    (``adapt_datetimefield_value``, which costs ten times more per call), remembered per
    value (a batch's readings share their timestamps)."""
    if connection.vendor != "sqlite":
        return _same
    texts: dict[dt.datetime, str] = {}

    def adapt(value: dt.datetime | None) -> Any:
        if value is None:
            return None
        text = texts.get(value)
        if text is None:
            text = texts[value] = str(value.astimezone(dt.UTC).replace(tzinfo=None))
        return text

    return adapt


def _same(value: Any) -> Any:
    return value


def _aggregates_upsert(
    cursor: Any,
    aggregates: dict[tuple[int, str, dt.datetime], list[float]],
    at: Callable[[dt.datetime | None], Any],
) -> None:
    """Add the batch's sums into the hourly aggregate rows (``INSERT … ON CONFLICT DO
    UPDATE``: SQLite ≥ 3.24 and PostgreSQL)."""
    low, high = ("LEAST", "GREATEST") if connection.vendor == "postgresql" else ("MIN", "MAX")
    table = "iot_hourlyaggregate"
    conflict = (
        "ON CONFLICT (device_id, metric, hour) DO UPDATE SET "
        f"count = {table}.count + excluded.count, total = {table}.total + excluded.total, "
        f"minimum = {low}({table}.minimum, excluded.minimum), "
        f"maximum = {high}({table}.maximum, excluded.maximum), last = excluded.last"
    )
    rows = [
        (device_id, metric, at(hour), int(a[0]), *a[1:])
        for (device_id, metric, hour), a in sorted(aggregates.items())
    ]
    _rows_insert(cursor, table, AGGREGATE_COLUMNS, rows, suffix=conflict)


# --- alarms -------------------------------------------------------------------------------


def _event(
    alarm: Alarm, action: str, actor: Any, at: dt.datetime, note: str = "", **data: Any
) -> None:
    AlarmEvent.objects.create(
        alarm=alarm, action=action, actor=actor, at=at, note=note[:500], data=data
    )


def alarm_raise(
    *,
    device: Device,
    rule: str,
    severity: str,
    at: dt.datetime,
    detail_key: str = "",
    detail_params: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> Alarm:
    """Open an alarm of ``device`` for ``rule`` (call inside a transaction that holds the
    device). ``detail_key`` and ``detail_params``: what it shows (``rules.DETAILS``,
    translated when shown; ``detail`` keeps it in the site's language). A critical alarm
    becomes an urgent task at once. Raises ``IntegrityError`` if another one is open for
    the same device and rule (the constraint holds it)."""
    now = _now(now)
    detail = _detail_stored(detail_key, detail_params)
    with transaction.atomic():
        alarm = Alarm.objects.create(
            device=device,
            household_id=device.household_id,
            rule=rule,
            severity=severity,
            first_at=at,
            last_at=at,
            detail=detail[:200],
            detail_key=detail_key,
            detail_params=detail_params or {},
        )
        _event(alarm, AlarmAction.RAISE, None, now, detail, severity=severity)
        if severity == Severity.CRITICAL:
            alarm_task_create(alarm=alarm, now=now)
    logger.warning("iot: alarm %s %s on %s (%s)", alarm.pk, rule, device.serial, severity)
    return alarm


def _detail_stored(key: str, params: dict[str, Any] | None) -> str:
    """A detail in the site's language (``LANGUAGE_CODE``): the text kept on the alarm and
    its timeline for the admin and exports; pages render the key in the reader's."""
    if not key:
        return ""
    with translation.override(settings.LANGUAGE_CODE):
        return rules.detail_render(key, params)


def _alarm_repeat(alarm: Alarm, at: dt.datetime, detail: str) -> None:
    Alarm.objects.filter(pk=alarm.pk).update(count=F("count") + 1, last_at=at)
    alarm.count += 1
    alarm.last_at = at
    _event(alarm, AlarmAction.REPEAT, None, at, detail, count=alarm.count)


def _alarm_task_type() -> tuple[TaskType, dict[str, TaskRule]]:
    """The catalogue's alarm task type (0216) and its rules; imported from the default
    catalogue (that entry only) when the database has no catalogue yet."""
    task_type = TaskType.objects.filter(code=ALARM_TASK_TYPE).first()
    if task_type is None:
        from gridgov.catalog.services import (
            DEFAULT_CATALOGUE_PATH,
            catalog_import,
            catalog_load_file,
        )

        data = catalog_load_file(path=DEFAULT_CATALOGUE_PATH)
        data["task_types"] = [t for t in data["task_types"] if t["code"] == ALARM_TASK_TYPE]
        category = data["task_types"][0]["category"]
        data["categories"] = [c for c in data["categories"] if c["code"] == category]
        catalog_import(data=data)
        task_type = TaskType.objects.get(code=ALARM_TASK_TYPE)
    return task_type, {r.code: r for r in TaskRule.objects.filter(task_type=task_type)}


def _end_of_local_day(at: dt.datetime) -> dt.datetime:
    local = timezone.localtime(at)
    return local.replace(hour=23, minute=59, second=0, microsecond=0)


def alarm_task_create(*, alarm: Alarm, now: dt.datetime | None = None) -> Alarm:
    """Make ``alarm`` an urgent task (异常工单) for the household's grid worker, once.

    Ladder (issue 6): phone the resident or their emergency contact within 5 min
    (critical) or 30 min (others); if nobody answers, visit within 30 min (critical) or
    the same day (at least 2 h). The task (source ``alarm``, key ``alarm:<id>``, type
    0216, rule 021601 critical / 021602 others, priority urgent) starts dispatched, its
    deadline the visit's; overdue tasks escalate to the grid leader and the command
    centre on the task engine's ladder (``tasks.sweep``). The task's traffic light turns
    yellow when the call is due (``yellow_at`` = the phone deadline). Idempotent.
    """
    from gridgov.tasks.choices import TaskSource
    from gridgov.tasks.models import Task
    from gridgov.tasks.services import task_create

    now = _now(now)
    if alarm.task_id is not None:
        return alarm
    critical = alarm.severity == Severity.CRITICAL
    task_type, task_rules = _alarm_task_type()
    phone_due = now + PHONE_WITHIN[critical]
    visit_due = (
        now + VISIT_CRITICAL_WITHIN
        if critical
        else max(_end_of_local_day(now), now + VISIT_OTHER_AT_LEAST)
    )
    household = Household.objects.select_related("area").get(pk=alarm.household_id)
    device = alarm.device
    local = timezone.localtime
    description = _(
        "%(rule)s from %(kind)s %(serial)s at %(at)s. %(detail)s\n"
        "1. Phone the resident or their emergency contact by %(phone)s.\n"
        "2. If nobody answers, visit the home by %(visit)s.\n"
        "Record the outcome (handled, false alarm with its reason, away from home)."
    ) % {
        "rule": alarm.get_rule_display(),
        "kind": device.get_kind_display(),
        "serial": device.serial,
        "at": f"{local(alarm.first_at):%Y-%m-%d %H:%M}",
        "detail": alarm.detail_display,
        "phone": f"{local(phone_due):%H:%M}",
        "visit": f"{local(visit_due):%Y-%m-%d %H:%M}",
    }
    with transaction.atomic():
        task = task_create(
            actor=None,
            source=TaskSource.ALARM,
            task_type=task_type,
            rule=task_rules.get(ALARM_RULE_CRITICAL if critical else ALARM_RULE_OTHER),
            target_household=household,
            title=_("Alarm: %(rule)s") % {"rule": alarm.get_rule_display()},
            description=description,
            priority="urgent",
            deadline=visit_due,
            source_key=f"alarm:{alarm.pk}",
            now=now,
        )
        Alarm.objects.filter(pk=alarm.pk).update(
            task=task, phone_due_at=phone_due, visit_due_at=visit_due
        )
        # The traffic light turns yellow (due) no later than the call is due: a task whose
        # 5-minute call is late is not "green" for the rest of the visit's time.
        if task.yellow_at is None or task.yellow_at > phone_due:
            Task.objects.filter(pk=task.pk).update(yellow_at=phone_due)
            task.yellow_at = phone_due
        alarm.task = task
        alarm.phone_due_at, alarm.visit_due_at = phone_due, visit_due
        _event(alarm, AlarmAction.TASK, None, now, task.number, task=task.number)
    return alarm


def _load_alarm(alarm: Alarm | int, actor: Any) -> Alarm:
    pk = alarm.pk if isinstance(alarm, Alarm) else alarm
    found = (
        Alarm.objects.select_for_update(of=("self",))
        .select_related("household__area", "device", "task")
        .filter(pk=pk)
        .first()
        if connection.features.has_select_for_update_of
        else Alarm.objects.select_related("household__area", "device", "task").filter(pk=pk).first()
    )
    if found is None or (
        actor is not None
        and not user_can_access_area(actor, found.household.area, roles=RESPONDER_ROLES)
    ):
        if found is not None and user_can_access_area(actor, found.household.area):
            raise PermissionDenied(_("Your role may not respond to alarms."))
        raise NotFound(_("No such alarm."), details={"alarm": pk})
    return found


def alarm_acknowledge(
    *, actor: Any, alarm: Alarm | int, note: str = "", now: dt.datetime | None = None
) -> Alarm:
    """Acknowledge an active alarm (active → acknowledged) and return it.

    Actor: a responder role over the household's area (``None``: the system). Raises
    ``NotFound`` (no such alarm in the actor's areas), ``PermissionDenied``, ``Conflict``
    (not active).
    """
    now = _now(now)
    with transaction.atomic():
        found = _load_alarm(alarm, actor)
        changed = Alarm.objects.filter(pk=found.pk, state=AlarmState.ACTIVE).update(
            state=AlarmState.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=actor
        )
        if not changed:
            raise Conflict(
                _("The alarm is %(state)s, not active.") % {"state": found.get_state_display()},
                code="state_conflict",
            )
        _event(found, AlarmAction.ACKNOWLEDGE, actor, now, note)
        found.refresh_from_db()
    return found


#: The longest outcome reason of an alarm (``Alarm.outcome_reason``), in characters.
REASON_MAX = 200


def _alarm_close(
    alarm: Alarm, *, actor: Any, outcome: str, reason: str, now: dt.datetime, note: str = ""
) -> bool:
    changed = Alarm.objects.filter(pk=alarm.pk, state__in=OPEN_ALARM_STATES).update(
        state=AlarmState.CLEARED,
        cleared_at=now,
        cleared_by=actor,
        outcome=outcome,
        outcome_reason=reason,
    )
    if changed:
        alarm.state = AlarmState.CLEARED
        alarm.outcome, alarm.outcome_reason, alarm.cleared_at = outcome, reason, now
        _event(alarm, AlarmAction.CLEAR, actor, now, note or reason, outcome=outcome)
    return bool(changed)


def alarm_clear(
    *,
    actor: Any,
    alarm: Alarm | int,
    outcome: str,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Alarm:
    """Clear an open alarm with its ``outcome`` (an ``AlarmOutcome``) and return it.

    A false alarm (``false_alarm``, ``away``, ``meter_fault``) needs a ``reason`` (e.g.
    "away at her daughter's"), which counts in the false-alarm rate. When the actor is the
    assignee of the alarm's open task, the task gets their feedback too (accepted if it
    was only dispatched; the catalogue form: result and note), so it goes on to
    verification. Raises ``ValidationFailed``, ``NotFound``, ``PermissionDenied``,
    ``Conflict`` (already cleared). ``reason``: at most ``REASON_MAX`` (200) characters,
    never cut.
    """
    now = _now(now)
    reason = (reason or "").strip()
    if outcome not in AlarmOutcome.values:
        raise ValidationFailed(
            _("Unknown outcome %(o)s; use one of %(all)s.")
            % {"o": outcome, "all": ", ".join(AlarmOutcome.values)},
            details={"field": "outcome"},
        )
    if outcome in FALSE_ALARM_OUTCOMES and not reason:
        raise ValidationFailed(
            _("A false alarm needs its reason (e.g. away from home, meter fault)."),
            details={"field": "reason"},
        )
    if len(reason) > REASON_MAX:
        raise ValidationFailed(
            _("The reason is longer than %(n)d characters.") % {"n": REASON_MAX},
            details={"field": "reason"},
        )
    with transaction.atomic():
        found = _load_alarm(alarm, actor)
        if not _alarm_close(found, actor=actor, outcome=outcome, reason=reason, now=now):
            raise Conflict(_("The alarm is already cleared."), code="state_conflict")
        _task_feedback(found, actor, outcome, reason, now)
    return found


def _task_feedback(alarm: Alarm, actor: Any, outcome: str, reason: str, now: dt.datetime) -> None:
    from gridgov.tasks.choices import TaskState
    from gridgov.tasks.services import task_accept, task_submit_feedback

    task = alarm.task
    if task is None or actor is None or task.assignee_id != actor.pk:
        return
    if task.state == TaskState.DISPATCHED:
        task = task_accept(actor=actor, task=task, now=now)
    if task.state in (TaskState.ACCEPTED, TaskState.RETURNED):
        task_submit_feedback(
            actor=actor,
            task=task,
            note=reason or str(AlarmOutcome(outcome).label),
            lon=None,
            lat=None,
            answers={
                "result": FORM_RESULT[outcome],
                "note": reason or str(AlarmOutcome(outcome).label),
            },
            photos=[],
            now=now,
        )


def alarm_response_record(
    *,
    actor: Any,
    alarm: Alarm | int,
    step: str,
    answered: bool | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> Alarm:
    """Record a step of the response: ``step`` ``"phone"`` (with ``answered``) or
    ``"visit"``; an active alarm is acknowledged by it. Raises ``ValidationFailed``
    (unknown step, a phone call without ``answered``), ``NotFound``,
    ``PermissionDenied``, ``Conflict`` (the alarm is cleared)."""
    now = _now(now)
    if step not in ("phone", "visit"):
        raise ValidationFailed(_("A step is phone or visit."), details={"field": "step"})
    if step == "phone" and answered is None:
        raise ValidationFailed(
            _("Say whether the call was answered."), details={"field": "answered"}
        )
    with transaction.atomic():
        found = _load_alarm(alarm, actor)
        if not found.is_open:
            raise Conflict(_("The alarm is already cleared."), code="state_conflict")
        fields: dict[str, Any] = (
            {"phoned_at": now, "phone_answered": answered}
            if step == "phone"
            else {"visited_at": now}
        )
        if found.state == AlarmState.ACTIVE:
            fields.update(state=AlarmState.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=actor)
            _event(found, AlarmAction.ACKNOWLEDGE, actor, now)
        Alarm.objects.filter(pk=found.pk).update(**fields)
        action = AlarmAction.PHONE if step == "phone" else AlarmAction.VISIT
        _event(
            found, action, actor, now, note, **({"answered": answered} if step == "phone" else {})
        )
        found.refresh_from_db()
    return found


# --- the periodic check ---------------------------------------------------------------------


def alarm_check_run(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The periodic check, for what no reading tells: devices gone silent (``offline``),
    water meters whose window passed without use (``water_low_use``), and alarms nobody
    acknowledged within ``GRIDGOV_IOT_UNACKNOWLEDGED_MINUTES`` (they become urgent tasks).

    Silence is measured from the device's last reading time. Safe to run concurrently
    with ingestion (each device is handled under its row lock, one transaction per
    device) and to rerun (an open alarm is never raised twice). Output: counts
    ``{"offline", "low_use", "tasks", "escalated"}`` (see ``_phone_overdue_escalate``).
    """
    now = _now(now)
    counts = {"offline": 0, "low_use": 0, "tasks": 0, "escalated": 0}
    table = rule_settings(
        AlarmRule.objects.filter(household__isnull=False).values_list("household_id", flat=True)
    )
    shortest = {
        kind: min(
            rules.offline_after(kind, s)
            for per in table.values()
            for code, s in per.items()
            if code == RuleCode.OFFLINE
        )
        for kind in DeviceKind.values
    }
    candidates: Q = Q(pk__in=[])
    for kind, after in shortest.items():
        candidates |= Q(kind=kind, last_measured_at__lt=now - after)
    # A meter that reports evaluates its low-use window as readings arrive; one that has
    # sent nothing for half an hour is looked at here.
    candidates |= Q(
        kind=DeviceKind.WATER_METER, last_measured_at__lt=now - dt.timedelta(minutes=30)
    )
    device_ids = list(
        Device.objects.filter(candidates, active=True).values_list("pk", flat=True).order_by("pk")
    )
    for device_id in device_ids:
        with transaction.atomic():
            device = Device.objects.select_for_update().filter(pk=device_id).first()
            if device is None or device.last_measured_at is None:
                continue
            batch = _Batch(now)
            batch.settings = table
            for state in RuleState.objects.filter(device=device):
                batch.states[(device.pk, state.rule)] = state
            for alarm in Alarm.objects.filter(device=device, state__in=OPEN_ALARM_STATES):
                batch.alarms[(device.pk, alarm.rule)] = alarm
            setting = setting_for(table, device.household_id, RuleCode.OFFLINE)
            silent = now - device.last_measured_at >= rules.offline_after(device.kind, setting)
            if setting.enabled and silent:
                minutes = int((now - device.last_measured_at).total_seconds() // 60)
                verdict = rules.Verdict(
                    True, detail_key="silent", detail_params={"minutes": minutes}
                )
                if batch.verdict_apply(device, RuleCode.OFFLINE, verdict, now):
                    counts["offline"] += 1
            elif device.kind == DeviceKind.WATER_METER:
                low = setting_for(table, device.household_id, RuleCode.WATER_LOW_USE)
                if low.enabled and (device.pk, RuleCode.WATER_LOW_USE) not in batch.alarms:
                    low_state = batch.states.get((device.pk, RuleCode.WATER_LOW_USE))
                    if low_state is not None:
                        verdict = rules.water_low_use(dict(low_state.state), low, now, None)
                        if verdict.fire and batch.verdict_apply(
                            device, RuleCode.WATER_LOW_USE, verdict, now
                        ):
                            counts["low_use"] += 1
            batch.readings.clear()
            batch._flush([])
    counts["tasks"] = _unacknowledged_to_tasks(now)
    counts["escalated"] = _phone_overdue_escalate(now)
    return counts


#: Area code lengths of the levels (district … micro-grid): an area's ancestors' codes.
_CODE_LENGTHS = (6, 9, 12, 15, 18)


def _phone_overdue_escalate(now: dt.datetime) -> int:
    """Escalate, once, the open alarms whose phone step is overdue (``phone_due_at``
    passed, no call recorded): notify the grid leaders over the household's area, or the
    command centre where there is none, and write an ``escalate`` row on the alarm's
    timeline. A compare-and-set on ``phone_escalated_at`` makes two checks at once
    escalate an alarm once. Returns how many were escalated."""
    from gridgov.notifications.services import notification_queue
    from gridgov.people.models import Membership

    due = Alarm.objects.filter(
        state__in=OPEN_ALARM_STATES,
        phone_due_at__lt=now,
        phoned_at__isnull=True,
        phone_escalated_at__isnull=True,
    ).select_related("household__area", "device", "task")
    done = 0
    for alarm in list(due):
        with transaction.atomic():
            claimed = Alarm.objects.filter(pk=alarm.pk, phone_escalated_at__isnull=True).update(
                phone_escalated_at=now
            )
            if not claimed:
                continue
            code = alarm.household.area.code
            ancestors = [code[:n] for n in _CODE_LENGTHS if n <= len(code)]
            people = Membership.objects.filter(area__code__in=ancestors, user__is_active=True)
            leaders = [m.user for m in people.filter(role=Role.GRID_LEADER).select_related("user")]
            recipients = leaders or [
                m.user for m in people.filter(role=Role.COMMAND_CENTRE).select_related("user")
            ]
            title = _("Alarm not phoned in time: %(rule)s") % {"rule": alarm.get_rule_display()}
            notification_queue(
                recipients=recipients,
                kind="iot_phone_overdue",
                title=title[:200],
                body=str(alarm.household),
                task=alarm.task,
                data={"alarm": alarm.pk},
            )
            _event(alarm, AlarmAction.ESCALATE, None, now, title,
                   recipients=[u.pk for u in recipients])  # fmt: skip
            done += 1
    return done


def _unacknowledged_to_tasks(now: dt.datetime) -> int:
    limit = now - dt.timedelta(minutes=settings.GRIDGOV_IOT_UNACKNOWLEDGED_MINUTES)
    made = 0
    ids = Alarm.objects.filter(
        state=AlarmState.ACTIVE, task__isnull=True, first_at__lte=limit
    ).values_list("pk", flat=True)
    for pk in list(ids):
        with transaction.atomic():
            alarm = Alarm.objects.select_related("device").filter(pk=pk, task__isnull=True).first()
            if alarm is not None and alarm.state == AlarmState.ACTIVE:
                alarm_task_create(alarm=alarm, now=now)
                made += 1
    return made


# --- retention ----------------------------------------------------------------------------


def readings_purge(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete raw readings and processed message ids older than
    ``GRIDGOV_IOT_RAW_RETENTION_DAYS`` (hourly aggregates stay); on PostgreSQL, whole
    monthly partitions past the window are dropped and the coming months' are created.
    Output: ``{"readings": n, "messages": n, "partitions_dropped": n}``."""
    from gridgov.iot import partitions

    now = _now(now)
    cutoff = now - dt.timedelta(days=settings.GRIDGOV_IOT_RAW_RETENTION_DAYS)
    dropped = 0
    if connection.vendor == "postgresql":
        dropped = partitions.partitions_drop_before(cutoff)
        partitions.partitions_ensure(now)
    with transaction.atomic():
        readings, _ = Reading.objects.filter(measured_at__lt=cutoff).delete()
        messages, _ = ProcessedMessage.objects.filter(received_at__lt=cutoff).delete()
    return {"readings": readings, "messages": messages, "partitions_dropped": dropped}


def household_kit_provision(*, household: Household, prefix: str) -> list[Device]:
    """Give ``household`` the digital-family kit (one device of each kind) with serials
    ``<prefix>-<kind code>`` unless it has them; return the devices created. Tokens are
    random and not returned (re-issue them with ``device_token_reset``)."""
    existing = set(Device.objects.filter(household=household).values_list("kind", flat=True))
    made = []
    for kind in DeviceKind.values:
        if kind in existing:
            continue
        device, _token = device_provision(
            actor=None, household=household, kind=kind, serial=f"{prefix}-{KIND_CODES[kind]}"
        )
        made.append(device)
    return made


#: Short codes of the kinds in generated serials.
KIND_CODES: dict[str, str] = {
    DeviceKind.WATER_METER: "WM",
    DeviceKind.SMOKE_DETECTOR: "SD",
    DeviceKind.GAS_DETECTOR: "GD",
    DeviceKind.SOS_BUTTON: "SOS",
    DeviceKind.ELECTRICITY_METER: "EM",
}


@transaction.atomic
def device_token_reset(*, actor: Any, device: Device) -> str:
    """Issue a new secret token for ``device`` (the old one stops working); return it.
    Raises ``PermissionDenied``."""
    household = Household.objects.select_related("area").get(pk=device.household_id)
    _check_writer(actor, household)
    token = secrets.token_urlsafe(32)
    Device.objects.filter(pk=device.pk).update(token_hash=device_token_hash(token))
    device.token_hash = device_token_hash(token)
    return token
