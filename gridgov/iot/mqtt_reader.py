"""The network side of ``gridgov mqtt``: a child process holding the paho-mqtt 2.x client.

It reads the socket, decodes the MQTT packets and the payloads (``payload.decode_safe``)
while the parent process applies the previous batch, so the two run on two cores instead
of one after the other. It imports neither Django nor the models (it is started with
``spawn``): only paho, the standard library and the Django-free ``payload``.

Pipe protocol (``multiprocessing.Connection``, pickled tuples):

- child → parent: ``("connected", session_present)``, ``("disconnected",)``,
  ``("batch", generation, [(mid, qos, decoded), …])``, ``decoded`` a
  ``payload.DeviceMessage`` or a ``payload.Undecoded`` (the child decodes each message
  as it arrives, with the serial of its topic: the parent only applies);
- parent → child: ``("ack", generation, [(mid, qos), …])`` once the batch has committed
  (it also tells the child the parent is ready for the next batch), ``("stop",)``.

At most one batch is with the parent at a time; the child keeps reading meanwhile (the
broker stops at ``receive_maximum(batch_size)`` unacknowledged messages: three batches).
``generation`` counts the connections: an acknowledgement for messages of an earlier
connection is dropped (the broker sends them again on the new one, and their message
ids make them duplicates).
The child exits on ``stop``, or when the parent has gone (the pipe's end-of-file): it
then acknowledges nothing more and never reconnects.
"""

from __future__ import annotations

import datetime as dt
import logging
import select
import signal
import time
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gridgov.core.errors import ValidationFailed
from gridgov.iot import names
from gridgov.iot.payload import DeviceMessage, Undecoded, decode_safe

logger = logging.getLogger("gridgov.iot.mqtt")

#: How long the broker keeps the consumer's session while it is away (seconds).
SESSION_EXPIRY = 7 * 24 * 3600
#: Unacknowledged messages the broker may send us at once (MQTT 5 Receive Maximum), at
#: least: one batch with the parent and the next ones being read (``receive_maximum``).
RECEIVE_MAXIMUM = 4000
#: A batch whose stream does not pause is handed over after this many ``batch_wait``.
BATCH_WAIT_MAX = 5
#: Packets read in a row after one ``select`` (see ``Reader._read_burst``).
READ_BURST = 256


def serial_of(topic: str) -> str | None:
    """The serial of a ``…/devices/{serial}/(telemetry|event)`` topic, else None."""
    parts = topic.split("/")
    if len(parts) >= 3 and parts[-3] == "devices" and parts[-1] in ("telemetry", "event"):
        return parts[-2] or None
    return None


def decoded_of(topic: str, payload: bytes, now: dt.datetime) -> DeviceMessage | Undecoded:
    """A message's payload decoded with the serial of its topic; never raises (a failure
    of the decoder itself is a ``malformed`` message too: a message never stops us)."""
    serial = serial_of(topic)
    try:
        return decode_safe(payload, serial=serial, now=now)
    except Exception as exc:  # the decoder's own failure: counted and logged
        return Undecoded(serial, names.MALFORMED, f"not decodable: {exc!r}"[:500])


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


def client_make(client_id: str) -> mqtt.Client:
    """A paho client speaking MQTT 5 with ``client_id``."""
    return mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5,
    )


def receive_maximum(batch_size: int) -> int:
    """The Receive Maximum for batches of ``batch_size``: room for the batch with the
    parent and two more being read (at least ``RECEIVE_MAXIMUM``; MQTT's limit 65,535)."""
    return min(65_535, max(RECEIVE_MAXIMUM, 3 * batch_size))


def connect_properties(
    *, expiry: int = SESSION_EXPIRY, receive_max: int = RECEIVE_MAXIMUM
) -> Properties:
    """CONNECT properties: the session expiry (seconds) and the Receive Maximum (how
    many QoS 1 messages the broker may leave unacknowledged with us)."""
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = expiry
    props.ReceiveMaximum = receive_max
    return props


class _ParentGone(Exception):
    pass


class Reader:
    """The child's state: the paho client, the messages read and not yet handed over."""

    def __init__(
        self,
        conn: Connection,
        *,
        url: str,
        client_id: str,
        topics: list[str],
        batch_size: int,
        batch_wait: float,
    ) -> None:
        self.conn = conn
        self.host, self.port, tls = broker_address(url)
        self.topics = topics
        self.batch_size = batch_size
        self.batch_wait = batch_wait
        self.pending: list[tuple[int, int, DeviceMessage | Undecoded]] = []
        self.first_at = 0.0
        self.generation = 0
        self.parent_ready = True
        self.stopping = False
        self.socket_up = False
        self.ever_connected = False
        self.client = client_make(client_id)
        self.client.manual_ack_set(True)
        if tls:
            self.client.tls_set()
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect

    def _send(self, item: tuple[Any, ...]) -> None:
        try:
            self.conn.send(item)
        except (OSError, EOFError) as exc:
            raise _ParentGone from exc

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:
            logger.error("mqtt: connection refused: %s", reason)
            return
        client.subscribe([(t, 1) for t in self.topics])
        logger.info("mqtt: connected to %s:%s (session present: %s)",
                    self.host, self.port, flags.session_present)  # fmt: skip
        self._send(("connected", bool(flags.session_present)))

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if not self.socket_up:
            return
        self.socket_up = False
        self.generation += 1
        self.pending.clear()  # not acknowledged: the broker sends them again
        if not self.stopping:
            logger.warning("mqtt: disconnected (%s); reconnecting", reason)
            self._send(("disconnected",))

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if not self.pending:
            self.first_at = time.monotonic()
        decoded = decoded_of(message.topic, bytes(message.payload), dt.datetime.now(dt.UTC))
        self.pending.append((message.mid, message.qos, decoded))

    def _commands(self) -> None:
        """Apply what the parent sent: acknowledgements (of this connection), stop."""
        try:
            while self.conn.poll():
                command = self.conn.recv()
                if command[0] == "stop":
                    self.stopping = True
                    return
                _ack, generation, acks = command
                self.parent_ready = True
                if generation == self.generation and self.socket_up:
                    for mid, qos in acks:
                        self.client.ack(mid, qos)
        except (OSError, EOFError) as exc:
            raise _ParentGone from exc

    def _connect(self) -> bool:
        try:
            if self.ever_connected:
                self.client.reconnect()
            else:
                self.client.connect(
                    self.host, self.port, keepalive=30, clean_start=False,
                    properties=connect_properties(receive_max=receive_maximum(self.batch_size)),
                )  # fmt: skip
        except OSError as exc:
            logger.warning("mqtt: cannot reach %s:%s (%s); retrying", self.host, self.port, exc)
            return False
        self.ever_connected = True
        self.socket_up = True
        return True

    def _hand_over(self, arrived: bool) -> None:
        """Give the parent a batch if it is ready and the batch is full, or its first
        message has waited ``batch_wait`` and the stream paused, or has waited
        ``BATCH_WAIT_MAX`` × ``batch_wait`` (a backlog)."""
        if not self.pending or not self.parent_ready:
            return
        waited = time.monotonic() - self.first_at
        if (
            len(self.pending) >= self.batch_size
            or (waited >= self.batch_wait and not arrived)
            or waited >= self.batch_wait * BATCH_WAIT_MAX
        ):
            batch = self.pending[: self.batch_size]
            self.pending = self.pending[self.batch_size :]
            self.first_at = time.monotonic()
            self.parent_ready = False
            self._send(("batch", self.generation, batch))

    def _read_burst(self) -> mqtt.MQTTErrorCode:
        """Read packets while they come (paho reads one per ``loop_read``): up to
        ``READ_BURST`` in a row, as long as each call brought a message — a call that
        found the socket empty, or a packet other than a PUBLISH, ends the burst. One
        ``select`` per burst instead of per message."""
        for _ in range(READ_BURST):
            before = len(self.pending)
            rc = self.client.loop_read()
            if rc != mqtt.MQTT_ERR_SUCCESS or len(self.pending) == before:
                return rc
            if len(self.pending) >= self.batch_size and self.parent_ready:
                break  # hand the batch over now
        return mqtt.MQTT_ERR_SUCCESS

    def run(self) -> None:
        delay = 1.0
        commands = True  # the pipe may hold a command (select said so, or we did not ask)
        while not self.stopping:
            if commands:
                self._commands()
                commands = False
            if self.stopping:
                break
            if not self.socket_up:
                commands = True
                if not self._connect():
                    if self.conn.poll(delay):  # a stop (or the parent's end) wakes us
                        continue
                    delay = min(delay * 2, 4.0)
                    continue
                delay = 1.0
            sock: Any = self.client.socket()
            if sock is None:
                self._on_disconnect(self.client, None, None, "no socket", None)
                continue
            tls_pending = bool(getattr(sock, "pending", None) and sock.pending())
            wait = 1.0
            if self.pending and self.parent_ready:
                wait = max(0.0, self.batch_wait - (time.monotonic() - self.first_at))
            if tls_pending:  # TLS bytes already read from the socket
                wait = 0.0
            wlist = [sock] if self.client.want_write() else []
            try:
                readable, writable, _x = select.select([sock, self.conn], wlist, [], wait)
            except (OSError, ValueError):
                self._on_disconnect(self.client, None, None, "select failed", None)
                continue
            commands = self.conn in readable
            before = len(self.pending)
            rc = mqtt.MQTT_ERR_SUCCESS
            if sock in readable or tls_pending:
                rc = self._read_burst()
            if rc == mqtt.MQTT_ERR_SUCCESS and writable:
                rc = self.client.loop_write()
            if rc == mqtt.MQTT_ERR_SUCCESS:
                rc = self.client.loop_misc()
            if rc != mqtt.MQTT_ERR_SUCCESS:
                self._on_disconnect(self.client, None, None, rc, None)
                continue
            self._hand_over(arrived=len(self.pending) > before)
        if self.socket_up:
            self.client.disconnect()
            self.client.loop(timeout=0.1)  # send the DISCONNECT


def reader_main(conn: Connection, **options: Any) -> None:
    """The child process's entry point (``options``: those of ``Reader``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    reader = Reader(conn, **options)
    try:
        reader.run()
    except _ParentGone:
        pass  # nothing more is acknowledged; the broker keeps the session
    finally:
        conn.close()
