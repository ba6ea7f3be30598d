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
batches, in arrival order (per device: the device's publishing order). The network side
and the payload decoding run in a child process (``gridgov.iot.mqtt_reader``).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import paho.mqtt.client as mqtt
from django.conf import settings
from paho.mqtt.enums import CallbackAPIVersion

from gridgov.core.errors import GridgovError
from gridgov.iot.mqtt_reader import (
    RECEIVE_MAXIMUM,
    SESSION_EXPIRY,
    broker_address,
    client_make,
    connect_properties,
    reader_main,
    serial_of,
)
from gridgov.iot.payload import DeviceMessage, Undecoded
from gridgov.iot.services import readings_apply

__all__ = [
    "BATCH_SIZE",
    "RECEIVE_MAXIMUM",
    "SESSION_EXPIRY",
    "Consumer",
    "ConsumerStats",
    "broker_address",
    "client_make",
    "connect_properties",
    "publisher_connect",
    "serial_of",
    "topics",
]

logger = logging.getLogger(__name__)
#: Messages per batch (one transaction): per-batch work (locking the devices, loading
#: their rule states, writing them back) is shared by more messages as batches grow; a
#: batch closes earlier when the stream pauses (``batch_wait``), so a live alarm does not
#: wait for a full one.
BATCH_SIZE = 2000


def topics(prefix: str | None = None) -> list[str]:
    """The two subscriptions of the consumer."""
    root = (prefix or settings.GRIDGOV_IOT_TOPIC_PREFIX).rstrip("/")
    return [f"{root}/devices/+/telemetry", f"{root}/devices/+/event"]


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

    Two processes: a child (``mqtt_reader``, started with ``spawn``) holds the paho
    client — socket, packet decoding, acknowledgements — decodes the payloads and hands
    over batches; this process applies each batch in one transaction and then tells the
    child to acknowledge it. Reading the next batch overlaps applying this one. Messages read
    but not yet applied when the connection drops or the consumer stops are forgotten:
    they were not acknowledged, so the broker delivers them again.
    """

    def __init__(
        self,
        *,
        url: str | None = None,
        client_id: str | None = None,
        prefix: str | None = None,
        batch_size: int = BATCH_SIZE,
        batch_wait: float = 0.05,
        on_batch: Callable[[ConsumerStats], None] | None = None,
    ) -> None:
        self.url = url or settings.MQTT_URL
        broker_address(self.url)  # a bad URL fails here, not in the child
        self.client_id = client_id or settings.GRIDGOV_IOT_CLIENT_ID
        self.topics = topics(prefix)
        self.batch_size = batch_size
        self.batch_wait = batch_wait
        self.on_batch = on_batch
        self.stats = ConsumerStats()
        self.connected = threading.Event()
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def _reader_start(self) -> tuple[BaseProcess, Connection]:
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        options = {
            "url": self.url,
            "client_id": self.client_id,
            "topics": self.topics,
            "batch_size": self.batch_size,
            "batch_wait": self.batch_wait,
        }
        reader = context.Process(
            target=reader_main, args=(theirs,), kwargs=options, name="gridgov-mqtt-reader",
            daemon=True,
        )  # fmt: skip
        reader.start()
        theirs.close()
        return reader, ours

    def run(
        self, *, idle_exit: float | None = None, max_messages: int | None = None
    ) -> ConsumerStats:
        reader, conn = self._reader_start()
        idle_since = time.monotonic()
        try:
            while not self._stop.is_set():
                try:
                    ready = conn.poll(0.1)
                    item = conn.recv() if ready else None
                except (EOFError, OSError):
                    item = None
                    reader.join(timeout=5)
                if item is None:
                    now = time.monotonic()
                    if not reader.is_alive():
                        logger.warning("mqtt: the reader process ended (%s); restarting it",
                                       reader.exitcode)  # fmt: skip
                        self.connected.clear()
                        conn.close()
                        reader, conn = self._reader_start()
                        idle_since = now
                    elif not self.connected.is_set():
                        idle_since = now  # away from the broker is not idle
                    elif idle_exit is not None and now - idle_since >= idle_exit:
                        break
                    continue
                if item[0] == "connected":
                    self.connected.set()
                    idle_since = time.monotonic()
                elif item[0] == "disconnected":
                    self.connected.clear()
                else:
                    _kind, generation, batch = item
                    self._apply(batch)
                    conn.send(("ack", generation, [(mid, qos) for mid, qos, _d in batch]))
                    idle_since = time.monotonic()
                    if max_messages is not None and self.stats.received >= max_messages:
                        break
        finally:
            self._stop.set()
            self.connected.clear()
            with contextlib.suppress(OSError, EOFError):
                conn.send(("stop",))
            reader.join(timeout=5)
            if reader.is_alive():
                reader.kill()
                reader.join(timeout=5)
            conn.close()
        return self.stats

    def _apply(self, batch: list[tuple[int, int, DeviceMessage | Undecoded]]) -> None:
        results = readings_apply(items=[decoded for _mid, _qos, decoded in batch], channel="mqtt")
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
