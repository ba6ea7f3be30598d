"""The reader process's bookkeeping (``iot.mqtt_reader.Reader``) without a broker: an
acknowledgement counts only for the connection it was made on, at most one batch is
with the parent, and the parent's end stops the reader."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import pickle
import time
from typing import Any

import pytest

from gridgov.iot.mqtt_reader import Reader, _ParentGone, decoded_of
from gridgov.iot.payload import DeviceMessage, Undecoded


@pytest.fixture
def pair() -> Any:
    ours, theirs = multiprocessing.Pipe()
    reader = Reader(
        theirs, url="mqtt://127.0.0.1:1", client_id="t-reader", topics=["x/devices/+/event"],
        batch_size=3, batch_wait=0.05,
    )  # fmt: skip
    acked: list[tuple[int, int]] = []
    reader.client.ack = lambda mid, qos: acked.append((mid, qos))  # type: ignore[method-assign]
    reader.socket_up = True
    yield reader, ours, acked
    ours.close()
    theirs.close()


def _message(reader: Reader, mid: int) -> None:
    if not reader.pending:
        reader.first_at = time.monotonic()
    reader.pending.append((mid, 1, decoded_of("x/devices/S/event", b"{}", dt.datetime.now(dt.UTC))))


def test_a_full_batch_goes_to_a_ready_parent_one_at_a_time(pair: Any) -> None:
    reader, parent, _acked = pair
    for mid in range(1, 8):
        _message(reader, mid)
    reader._hand_over(arrived=True)
    kind, generation, batch = parent.recv()
    assert (kind, generation, [m[0] for m in batch]) == ("batch", 0, [1, 2, 3])
    reader._hand_over(arrived=True)  # the parent has not answered: nothing more
    assert not parent.poll(0.05)
    assert [m[0] for m in reader.pending] == [4, 5, 6, 7]


def test_an_ack_counts_only_for_its_own_connection(pair: Any) -> None:
    reader, parent, acked = pair
    parent.send(("ack", 0, [(1, 1), (2, 1)]))
    reader._commands()
    assert acked == [(1, 1), (2, 1)]
    reader._on_disconnect(reader.client, None, None, "gone", None)
    assert parent.recv() == ("disconnected",)
    reader.socket_up = True  # reconnected: generation 1
    parent.send(("ack", 0, [(3, 1)]))
    reader._commands()
    assert acked == [(1, 1), (2, 1)]
    assert reader.parent_ready


def test_the_parents_end_stops_the_reader(pair: Any) -> None:
    reader, parent, acked = pair
    parent.close()
    with pytest.raises(_ParentGone):
        reader._commands()
    assert acked == []


def test_the_reader_decodes_with_the_topics_serial_and_never_raises() -> None:
    now = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    body = b'{"id": "m1", "ts": "2026-03-02T08:00:00+08:00", "values": {"power_w": 5}}'
    message = decoded_of("gridgov/v1/devices/EM-1/telemetry", body, now)
    assert isinstance(message, DeviceMessage)
    assert (message.serial, message.message_id, message.values) == (
        "EM-1", "m1", [("power_w", 5.0, dt.datetime(2026, 3, 2, tzinfo=dt.UTC))]
    )  # fmt: skip
    assert pickle.loads(pickle.dumps(message)) == message  # noqa: S301 - as it crosses the pipe
    bad = decoded_of("gridgov/v1/devices/EM-1/telemetry", b"{not json", now)
    assert isinstance(bad, Undecoded)
    assert (bad.serial, bad.reason) == ("EM-1", "malformed")
    odd = decoded_of("gridgov/v1/devices/EM-1/telemetry", b'{"id": "m2", "ts": []}', now)
    assert isinstance(odd, Undecoded)
    assert odd.reason == "malformed"
