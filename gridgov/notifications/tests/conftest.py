"""Fixtures for the notifications tests: English messages, default channels, and a real
local HTTP server standing in for the WeCom / DingTalk group robots."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import factory.random
import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _seeded_fakes() -> None:
    factory.random.reseed_random("gridgov-notifications")


@pytest.fixture(autouse=True)
def _default_channels(settings: Any) -> None:
    """Every test starts from the defaults, whatever the environment says."""
    settings.GRIDGOV_NOTIFICATION_CHANNELS = ["inbox", "log"]
    settings.GRIDGOV_WEBHOOK_URLS = []
    settings.GRIDGOV_WEBHOOK_KINDS = []
    settings.GRIDGOV_WEBHOOK_TIMEOUT = 2.0
    settings.GRIDGOV_OUTBOX_MAX_ATTEMPTS = 8


@dataclass
class Robot:
    """A group robot on 127.0.0.1: records each POST, answers ``status`` / ``answer``."""

    url: str
    status: int = 200
    answer: dict[str, Any] = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})
    requests: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def robot() -> Iterator[Robot]:
    state = Robot(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            parts = urllib.parse.urlsplit(self.path)
            state.requests.append(
                {
                    "path": parts.path,
                    "query": dict(urllib.parse.parse_qsl(parts.query)),
                    "content_type": self.headers.get("Content-Type"),
                    "body": json.loads(raw),
                }
            )
            data = json.dumps(state.answer).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    host, port = server.server_address[:2]
    state.url = f"http://{host}:{port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
