"""``gridgov demo-serve``: logins printed, worker started beside the server and stopped after."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from gridgov.demo.seed import DEMO_PASSWORD, demo_logins, seed_demo
from gridgov.people.choices import Role

pytestmark = pytest.mark.django_db


def test_one_login_per_role() -> None:
    seed_demo(scale="small")
    logins = demo_logins()
    roles = [role for _username, role, _where in logins]
    assert roles[0] == "superuser"
    assert set(roles[1:]) == set(Role.values)
    assert len(roles) == len(set(roles))


class _FakeWorker:
    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.stopped = False

    def poll(self) -> int | None:
        return 0 if self.stopped else None

    def terminate(self) -> None:
        self.stopped = True

    def wait(self, timeout: float | None = None) -> int:
        return 0


def test_the_worker_stops_when_the_server_stops(monkeypatch: Any) -> None:
    seed_demo(scale="small")
    started: list[_FakeWorker] = []
    served: list[list[str]] = []

    def popen(argv: list[str], **_kwargs: Any) -> _FakeWorker:
        started.append(_FakeWorker(argv))
        return started[-1]

    def run(argv: list[str], **_kwargs: Any) -> None:
        served.append(argv)
        raise KeyboardInterrupt  # the visitor pressed Ctrl-C

    monkeypatch.setattr("subprocess.Popen", popen)
    monkeypatch.setattr("subprocess.run", run)
    out = StringIO()
    call_command("demo_serve", "127.0.0.1:8765", stdout=out)

    assert started[0].argv[-1] == "worker"
    # The kits make demo simulated go on reporting in real time (none goes offline).
    kits = started[1].argv
    assert kits[kits.index("iot-simulate") :][:3] == ["iot-simulate", "--households", "12"]
    assert {"--resume", "--direct", "--follow"} <= set(kits)
    assert all(child.stopped for child in started)
    assert served[0][-2:] == ["127.0.0.1:8765", "--noreload"]
    text = out.getvalue()
    assert "http://127.0.0.1:8765/" in text
    assert DEMO_PASSWORD in text
    for username in ("zhou", "lin", "wu", "chen", "he"):
        assert username in text


def test_sigterm_stops_the_server_and_the_worker(monkeypatch: Any) -> None:
    import os
    import signal

    seed_demo(scale="small")
    started: list[_FakeWorker] = []

    def popen(argv: list[str], **_kwargs: Any) -> _FakeWorker:
        started.append(_FakeWorker(argv))
        return started[-1]

    def run(argv: list[str], **_kwargs: Any) -> None:
        os.kill(os.getpid(), signal.SIGTERM)  # `kill <pid>` while serving

    monkeypatch.setattr("subprocess.Popen", popen)
    monkeypatch.setattr("subprocess.run", run)
    before = signal.getsignal(signal.SIGTERM)
    out = StringIO()
    call_command("demo_serve", "127.0.0.1:8765", stdout=out)
    assert [child.stopped for child in started] == [True, True]
    assert "演示已停止" in out.getvalue()  # (the default language)
    assert signal.getsignal(signal.SIGTERM) == before  # restored


def test_the_kits_can_be_left_out(monkeypatch: Any) -> None:
    started: list[_FakeWorker] = []

    def popen(argv: list[str], **_kwargs: Any) -> _FakeWorker:
        started.append(_FakeWorker(argv))
        return started[-1]

    monkeypatch.setattr("subprocess.Popen", popen)
    monkeypatch.setattr("subprocess.run", lambda argv, **_kw: None)
    call_command("demo_serve", "--no-kits", stdout=StringIO())
    assert [child.argv[-1] for child in started] == ["worker"]
