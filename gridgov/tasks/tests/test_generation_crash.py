"""A ``gridgov generate`` killed with SIGKILL mid-run, then rerun: no duplicates, nothing
missing, no task without its timeline rows.

The subprocesses need a database of their own, on the backend the suite runs on: a SQLite
file in a temporary folder, or — when ``DATABASE_URL`` points at PostgreSQL — throwaway
databases on the same server, created and dropped here. Database A is migrated and
seeded (``gridgov seed-demo --scale small``) and B copied from it, so both hold the same
rules and targets with the same ids; A gets the killed run and the rerun, B one clean
run to compare with.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

GRIDGOV = str(Path(sys.executable).with_name("gridgov"))
#: A year of the small demo street's routine: about 7,900 tasks.
WINDOW = ["--from", "2025-01-01", "--until", "2026-01-01"]
#: Small batches, so that the kill lands between many commits.
BATCH = ["--batch-size", "40"]
KILL_AFTER = 400  # tasks committed before the kill


def _run(args: list[str], env: dict[str, str], timeout: float = 300) -> str:
    result = subprocess.run(  # noqa: S603 - our own console script
        [GRIDGOV, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"gridgov {' '.join(args)} failed:\n{result.stderr[-3000:]}"
    return result.stdout


class Backend:
    """Two throwaway databases (A and B) and a way to query them from the test."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.var = tmp / "var"
        self.var.mkdir()

    def env(self, url: str) -> dict[str, str]:
        env = {**os.environ, "DATABASE_URL": url, "GRIDGOV_VAR_DIR": str(self.var)}
        env["DJANGO_SETTINGS_MODULE"] = "gridgov.settings"
        return env

    url_a: str
    url_b: str
    query: Callable[[str, str], list[tuple[Any, ...]]]

    def copy_a_to_b(self) -> None:
        raise NotImplementedError

    def drop(self) -> None:
        raise NotImplementedError


class SQLiteBackend(Backend):
    def __init__(self, tmp: Path) -> None:
        super().__init__(tmp)
        self.file_a, self.file_b = tmp / "a.sqlite3", tmp / "b.sqlite3"
        self.url_a, self.url_b = f"sqlite:///{self.file_a}", f"sqlite:///{self.file_b}"
        self.files = {self.url_a: self.file_a, self.url_b: self.file_b}

    def query(self, url: str, sql: str) -> list[tuple[Any, ...]]:  # type: ignore[override]
        with contextlib.closing(sqlite3.connect(self.files[url], timeout=30)) as db:
            return db.execute(sql).fetchall()

    def copy_a_to_b(self) -> None:
        with contextlib.closing(sqlite3.connect(self.file_a)) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copyfile(self.file_a, self.file_b)

    def drop(self) -> None:
        pass  # tmp_path goes with the test


class PostgresBackend(Backend):
    def __init__(self, tmp: Path) -> None:
        super().__init__(tmp)
        db = settings.DATABASES["default"]
        self.server = {
            "host": db.get("HOST") or "127.0.0.1",
            "port": int(db.get("PORT") or 5432),
            "user": db.get("USER") or "postgres",
            "password": db.get("PASSWORD") or None,
        }
        self.names = [f"gridgov_gencrash_{os.getpid()}_{x}" for x in "ab"]
        auth = self.server["user"] + (
            f":{self.server['password']}" if self.server["password"] else ""
        )
        base = f"postgres://{auth}@{self.server['host']}:{self.server['port']}"
        self.url_a, self.url_b = (f"{base}/{name}" for name in self.names)
        self.by_url = dict(zip((self.url_a, self.url_b), self.names, strict=True))
        self._admin(
            f'DROP DATABASE IF EXISTS "{self.names[0]}"', f'CREATE DATABASE "{self.names[0]}"'
        )

    def _admin(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(dbname="postgres", autocommit=True, **self.server) as conn:
            for statement in statements:
                conn.execute(statement)

    def query(self, url: str, sql: str) -> list[tuple[Any, ...]]:  # type: ignore[override]
        import psycopg

        with psycopg.connect(dbname=self.by_url[url], autocommit=True, **self.server) as conn:
            return conn.execute(sql).fetchall()

    def copy_a_to_b(self) -> None:
        a, b = self.names
        self._admin(f'DROP DATABASE IF EXISTS "{b}"', f'CREATE DATABASE "{b}" TEMPLATE "{a}"')

    def drop(self) -> None:
        self._admin(*(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in self.names))


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Backend]:
    """The backend the suite runs on (``settings.DATABASES``), never silently another."""
    vendor = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    made: Backend
    if vendor == "sqlite3":
        made = SQLiteBackend(tmp_path)
    elif vendor == "postgresql":
        made = PostgresBackend(tmp_path)
    else:
        pytest.fail(f"the crash test knows SQLite and PostgreSQL, not {vendor}")
    try:
        yield made
    finally:
        made.drop()


def _count(backend: Backend, url: str, sql: str) -> int:
    return int(backend.query(url, sql)[0][0])


TASKS = "SELECT count(*) FROM tasks_task"
KEYS = "SELECT count(DISTINCT source_key) FROM tasks_task"
#: Tasks whose timeline is not exactly their CREATE and DISPATCH rows.
TORN = (
    "SELECT count(*) FROM tasks_task t WHERE "
    "(SELECT count(*) FROM tasks_taskevent e WHERE e.task_id = t.id AND e.action = 'create') != 1 "
    "OR (SELECT count(*) FROM tasks_taskevent e WHERE e.task_id = t.id "
    "AND e.action = 'dispatch') != 1"
)
EVENTS = "SELECT count(*) FROM tasks_taskevent"


def test_a_killed_run_and_its_rerun_equal_one_clean_run(backend: Backend) -> None:
    env_a, env_b = backend.env(backend.url_a), backend.env(backend.url_b)
    _run(["migrate", "--noinput", "-v", "0"], env_a)
    _run(["seed-demo", "--scale", "small"], env_a)
    backend.copy_a_to_b()

    clean = json.loads(_run(["generate", *WINDOW, *BATCH, "--json"], env_b))
    total = clean["created"]
    assert total > 10 * KILL_AFTER
    assert _count(backend, backend.url_b, TASKS) == total

    log = (backend.tmp / "killed.log").open("w")
    proc = subprocess.Popen(  # noqa: S603 - our own console script
        [GRIDGOV, "generate", *WINDOW, *BATCH], env=env_a, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 120
        while _count(backend, backend.url_a, TASKS) < KILL_AFTER:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no batch committed within 120 s"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()

    survived = _count(backend, backend.url_a, TASKS)
    assert KILL_AFTER <= survived < total
    assert _count(backend, backend.url_a, TORN) == 0  # no task without its rows
    assert _count(backend, backend.url_a, EVENTS) == 2 * survived

    rerun = json.loads(_run(["generate", *WINDOW, *BATCH, "--json"], env_a))
    assert rerun["skipped"] == survived
    assert rerun["created"] == total - survived
    assert _count(backend, backend.url_a, TASKS) == _count(backend, backend.url_a, KEYS) == total
    assert _count(backend, backend.url_a, TORN) == 0
    assert _count(backend, backend.url_a, EVENTS) == 2 * total
    keys = "SELECT source_key FROM tasks_task ORDER BY source_key"
    assert backend.query(backend.url_a, keys) == backend.query(backend.url_b, keys)
    again = json.loads(_run(["generate", *WINDOW, *BATCH, "--json"], env_a))
    assert (again["created"], again["skipped"]) == (0, total)
