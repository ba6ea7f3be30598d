"""A ``gridgov mqtt`` killed with SIGKILL mid-stream, then restarted: every reading is
stored once — the killed run's unacknowledged messages come again and are either
applied (their transaction had not committed) or dropped as counted duplicates.

The subprocesses need a database of their own on the suite's backend: a SQLite file, or
a throwaway PostgreSQL database (created and dropped here), migrated and seeded by the
real commands; the broker is the test's own.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from gridgov.iot.mqtt import publisher_connect
from gridgov.iot.tests.broker import Broker

GRIDGOV = str(Path(sys.executable).with_name("gridgov"))
#: Enough that the kill (once 300 rows are in) lands mid-stream even when the consumer
#: runs at 10,000+ readings/s and the test polls every 50 ms under load.
MESSAGES = 12_000


class Database:
    def __init__(self, tmp: Path) -> None:
        db = settings.DATABASES["default"]
        self.vendor = "postgresql" if "postgresql" in db["ENGINE"] else "sqlite"
        if self.vendor == "sqlite":
            self.file = tmp / "kill.sqlite3"
            self.url = f"sqlite:///{self.file}"
            return
        self.server = {
            "host": db.get("HOST") or "127.0.0.1",
            "port": int(db.get("PORT") or 5432),
            "user": db.get("USER") or "postgres",
            "password": db.get("PASSWORD") or None,
        }
        self.name = f"gridgov_iotkill_{os.getpid()}"
        auth = self.server["user"] + (
            f":{self.server['password']}" if self.server["password"] else ""
        )
        self.url = f"postgres://{auth}@{self.server['host']}:{self.server['port']}/{self.name}"
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}"', f'CREATE DATABASE "{self.name}"')

    def _admin(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(dbname="postgres", autocommit=True, **self.server) as conn:
            for statement in statements:
                conn.execute(statement)

    def scalar(self, sql: str) -> Any:
        if self.vendor == "sqlite":
            with contextlib.closing(sqlite3.connect(self.file, timeout=30)) as db:
                return db.execute(sql).fetchone()[0]
        import psycopg

        with psycopg.connect(dbname=self.name, **self.server) as conn:
            row = conn.execute(sql).fetchone()
            return row[0] if row else None

    def drop(self) -> None:
        if self.vendor == "postgresql":
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(tmp_path)
    yield db
    db.drop()


def _env(db: Database, tmp: Path, broker: Broker, prefix: str) -> dict[str, str]:
    var = tmp / "var"
    var.mkdir(exist_ok=True)
    return {
        **os.environ,
        "DATABASE_URL": db.url,
        "GRIDGOV_VAR_DIR": str(var),
        "DJANGO_SETTINGS_MODULE": "gridgov.settings",
        "MQTT_URL": broker.url,
        "GRIDGOV_IOT_TOPIC_PREFIX": prefix,
        "GRIDGOV_IOT_CLIENT_ID": f"kill-{uuid.uuid4().hex[:8]}",
    }


def _run(args: list[str], env: dict[str, str], timeout: float = 300) -> str:
    result = subprocess.run(  # noqa: S603 - our own console script
        [GRIDGOV, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"gridgov {' '.join(args)} failed:\n{result.stderr[-3000:]}"
    return result.stdout


def test_a_killed_consumer_resumes_without_duplicates(tmp_path: Path, database: Database) -> None:
    broker = Broker(tmp_path)
    broker.start()
    try:
        prefix = f"k{uuid.uuid4().hex[:6]}/v1"
        env = _env(database, tmp_path, broker, prefix)
        _run(["migrate", "-v", "0"], env)
        _run(["seed-demo", "--scale", "small", "--json"], env)
        csv_file = tmp_path / "devices.csv"
        csv_file.write_text("household,kind,serial\n1,water_meter,KILL-WM\n", encoding="utf-8")
        token = json.loads(_run(["iot-provision", str(csv_file), "--json"], env))["tokens"][
            "KILL-WM"
        ]
        _run(["mqtt", "--idle-exit", "0.5"], env)  # the persistent session now exists

        client = publisher_connect(broker.url)
        start = int(time.time()) - 2 * 86400
        infos = []
        for n in range(MESSAGES):
            body = {"id": f"k{n}", "ts": start + n * 10, "token": token,
                    "values": {"water_total_l": float(n)}}  # fmt: skip
            infos.append(
                client.publish(f"{prefix}/devices/KILL-WM/telemetry", json.dumps(body), qos=1)
            )
        for info in infos:
            info.wait_for_publish(timeout=30)
        client.disconnect()
        client.loop_stop()

        count_sql = "SELECT COUNT(*) FROM iot_reading WHERE metric = 'water_total_l'"
        proc = subprocess.Popen(  # noqa: S603 - our own console script
            [GRIDGOV, "mqtt", "--batch-size", "25"], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and (database.scalar(count_sql) or 0) < 300:
                time.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        killed_at = database.scalar(count_sql)
        assert 300 <= killed_at < MESSAGES, "the kill should land mid-stream"

        summary = json.loads(_run(["mqtt", "--idle-exit", "3", "--json"], env))
        assert database.scalar(count_sql) == MESSAGES
        distinct = "SELECT COUNT(DISTINCT value) FROM iot_reading WHERE metric = 'water_total_l'"
        assert database.scalar(distinct) == MESSAGES
        assert summary["accepted"] == MESSAGES - killed_at
        assert set(summary["rejected"]) <= {"duplicate"}
    finally:
        broker.stop()
