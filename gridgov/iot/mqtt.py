"""The MQTT side of ingestion (paho-mqtt 2.x): the consumer behind ``gridgov mqtt``.

Topics (``GRIDGOV_IOT_TOPIC_PREFIX``, default ``gridgov/v1``)::

    <prefix>/devices/{serial}/telemetry   periodic values
    <prefix>/devices/{serial}/event       alarms, presses, heartbeats

The consumer connects with MQTT 5, a fixed client id and ``clean_start=False`` with a
session expiry, so the broker keeps its subscriptions and queues QoS 1 messages while it
is away; it subscribes at QoS 1 and acknowledges by hand (``manual_ack_set(True)``): a
message is acknowledged only after the transaction that applied it has committed, so a
crash before the commit makes the broker deliver it again (and the message id makes the
second delivery a counted duplicate, never a second reading). Messages are applied in
batches, in arrival order (per device: the device's publishing order).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from django.conf import settings
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gridgov.core.errors import GridgovError, ValidationFailed
from gridgov.iot.services import IncomingMessage, readings_ingest

logger = logging.getLogger(__name__)

#: How long the broker keeps the consumer's session while it is away (seconds).
SESSION_EXPIRY = 7 * 24 * 3600
#: Unacknowledged messages the broker may send us at once (MQTT 5 Receive Maximum).
RECEIVE_MAXIMUM = 2000


def broker_address(url: str) -> tuple[str, int, bool]:
    """Parse ``mqtt://host[:port]`` (or ``mqtts://``, TLS) into (host, port, tls).
    Raises ``ValidationFailed`` for another scheme or no host."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp") or not parts.hostname:
        raise ValidationFailed(
            f"MQTT_URL {url!r}: use mqtt://host:port or mqtts://host:port",
            details={"url": url},
        )
    tls = parts.scheme == "mqtts"
    return parts.hostname, parts.port or (8883 if tls else 1883), tls


def topics(prefix: str | None = None) -> list[str]:
    """The two subscriptions of the consumer."""
    root = (prefix or settings.GRIDGOV_IOT_TOPIC_PREFIX).rstrip("/")
    return [f"{root}/devices/+/telemetry", f"{root}/devices/+/event"]


def serial_of(topic: str) -> str | None:
    """The serial of a ``…/devices/{serial}/(telemetry|event)`` topic, else None."""
    parts = topic.split("/")
    if len(parts) >= 3 and parts[-3] == "devices" and parts[-1] in ("telemetry", "event"):
        return parts[-2] or None
    return None


def client_make(client_id: str) -> mqtt.Client:
    """A paho client speaking MQTT 5 with ``client_id``."""
    return mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5,
    )


def connect_properties(*, expiry: int = SESSION_EXPIRY) -> Properties:
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = expiry
    props.ReceiveMaximum = RECEIVE_MAXIMUM
    return props


@dataclass
class ConsumerStats:
    received: int = 0
    accepted: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    alarms: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "accepted": self.accepted,
            "rejected": dict(sorted(self.rejected.items())),
            "batches": self.batches,
            "alarms": self.alarms,
        }


class Consumer:
    """Subscribe, apply in batches, acknowledge after commit. ``run`` returns when
    ``stop()`` is called (from another thread or a signal handler), after ``idle_exit``
    seconds connected without a message, or after ``max_messages``. A lost connection
    is retried every 1–4 s.

    One thread does everything — reading the socket, applying a batch, sending the
    acknowledgements — through paho's ``loop()``: with paho's own network thread the two
    would fight over the GIL and the ingestion would run at a fraction of its speed.
    Messages received but not yet applied when the connection drops are forgotten: they
    were not acknowledged, so the broker delivers them again.
    """

    def __init__(
        self,
        *,
        url: str | None = None,
        client_id: str | None = None,
        prefix: str | None = None,
        batch_size: int = 500,
        batch_wait: float = 0.05,
        on_batch: Callable[[ConsumerStats], None] | None = None,
    ) -> None:
        self.host, self.port, self.tls = broker_address(url or settings.MQTT_URL)
        self.client_id = client_id or settings.GRIDGOV_IOT_CLIENT_ID
        self.topics = topics(prefix)
        self.batch_size = batch_size
        self.batch_wait = batch_wait
        self.on_batch = on_batch
        self.stats = ConsumerStats()
        self.pending: list[mqtt.MQTTMessage] = []
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._socket_up = False
        self._ever_connected = False
        self.client = client_make(self.client_id)
        self.client.manual_ack_set(True)
        if self.tls:
            self.client.tls_set()
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect

    # --- paho callbacks (called from ``loop()``, in our thread) ---

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:
            logger.error("mqtt: connection refused: %s", reason)
            return
        client.subscribe([(t, 1) for t in self.topics])
        logger.info("mqtt: connected to %s:%s as %s (session present: %s)",
                    self.host, self.port, self.client_id, flags.session_present)  # fmt: skip
        self.connected.set()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        self.connected.clear()
        self._socket_up = False
        self.pending.clear()  # not acknowledged: the broker sends them again
        if not self._stop.is_set():
            logger.warning("mqtt: disconnected (%s); reconnecting", reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.pending.append(message)

    # --- the loop ---

    def stop(self) -> None:
        self._stop.set()

    def _connect(self) -> bool:
        try:
            if self._ever_connected:
                self.client.reconnect()
            else:
                self.client.connect(
                    self.host, self.port, keepalive=30, clean_start=False,
                    properties=connect_properties(),
                )  # fmt: skip
        except OSError as exc:
            logger.warning("mqtt: cannot reach %s:%s (%s); retrying", self.host, self.port, exc)
            return False
        self._ever_connected = True
        self._socket_up = True
        return True

    def run(
        self, *, idle_exit: float | None = None, max_messages: int | None = None
    ) -> ConsumerStats:
        delay = 1.0
        idle_since = time.monotonic()
        first_at = 0.0
        try:
            while not self._stop.is_set():
                if not self._socket_up:
                    if not self._connect():
                        self._stop.wait(delay)
                        delay = min(delay * 2, 4.0)
                        continue
                    delay = 1.0
                before = len(self.pending)
                wait = 0.1
                if self.pending:
                    wait = max(0.0, self.batch_wait - (time.monotonic() - first_at))
                rc = self.client.loop(timeout=wait)
                if rc != mqtt.MQTT_ERR_SUCCESS:
                    if self._socket_up:  # paho did not report it through on_disconnect
                        self._on_disconnect(self.client, None, None, rc, None)
                    continue
                now = time.monotonic()
                if not self.pending:
                    if not self.connected.is_set():
                        idle_since = now  # away from the broker is not idle
                    elif idle_exit is not None and now - idle_since >= idle_exit:
                        break
                    continue
                if before == 0:
                    first_at = now
                # A batch is full, or its first message has waited ``batch_wait``.
                if len(self.pending) >= self.batch_size or now - first_at >= self.batch_wait:
                    batch, self.pending = self.pending, []
                    self._apply(batch)
                    idle_since = time.monotonic()
                    if max_messages is not None and self.stats.received >= max_messages:
                        break
        finally:
            self._stop.set()
            self.client.disconnect()
            self.client.loop(timeout=0.1)  # send the DISCONNECT
        return self.stats

    def _apply(self, batch: list[mqtt.MQTTMessage]) -> None:
        incoming = [
            IncomingMessage(payload=bytes(m.payload), serial=serial_of(m.topic)) for m in batch
        ]
        results = readings_ingest(messages=incoming, channel="mqtt")
        # Committed: now the broker may forget them.
        for message in batch:
            self.client.ack(message.mid, message.qos)
        self.stats.batches += 1
        self.stats.received += len(batch)
        for result in results:
            if result.accepted:
                self.stats.accepted += 1
                self.stats.alarms += len(result.alarms)
            else:
                self.stats.rejected[result.reason] = self.stats.rejected.get(result.reason, 0) + 1
        if self.on_batch:
            self.on_batch(self.stats)


def publisher_connect(url: str | None = None, *, client_id: str = "") -> mqtt.Client:
    """A connected publishing client (network loop running) for the simulator and
    tests; ``client_id`` empty: a random one, clean session. Raises ``GridgovError``
    (``broker_unreachable``) when the broker cannot be reached."""
    host, port, tls = broker_address(url or settings.MQTT_URL)
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5,
    )
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    if tls:
        client.tls_set()
    try:
        client.connect(host, port, keepalive=30)
    except OSError as exc:
        raise GridgovError(
            f"MQTT broker {host}:{port} unreachable: {exc}", code="broker_unreachable"
        ) from exc
    client.loop_start()
    return client
