"""Delivery channels: a small registry of pluggable ways a notification leaves gridgov.

- ``inbox``: the ``Notification`` row itself (no outbox message; read in the app);
- ``log``: one log line per recipient on the ``gridgov.notifications`` logger (development);
- ``webhook``: one message per configured group robot (企业微信 WeCom or 钉钉 DingTalk) in
  their ``text`` message format, DingTalk's optional signature included.

Which channels are on: setting ``GRIDGOV_NOTIFICATION_CHANNELS`` (a list; environment
variable of the same name, comma-separated), default ``["inbox", "log"]``. Webhook URLs:
``GRIDGOV_WEBHOOK_URLS`` (comma-separated). A new channel is a ``Channel`` subclass
decorated with ``@channel_register``.

Sources for the webhook formats: WeCom 群机器人配置说明
(https://developer.work.weixin.qq.com/document/path/91770) and DingTalk 自定义机器人
(https://open.dingtalk.com/document/robots/custom-robot-access, security settings:
https://open.dingtalk.com/document/robots/customize-robot-security-settings).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, ClassVar

import environ
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from gridgov.notifications.models import OutboxMessage

logger = logging.getLogger("gridgov.notifications")
_env = environ.Env()

#: Default channels: the in-app inbox and a log line (development).
DEFAULT_CHANNELS = ["inbox", "log"]
#: Limits of one text message's content, in UTF-8 bytes (WeCom: 2,048; DingTalk: 20,000).
CONTENT_LIMITS = {"wecom": 2048, "dingtalk": 20000}
#: Hosts that identify each robot flavour when the URL carries no ``wecom+``/``dingtalk+``.
FLAVOUR_HOSTS = {
    "qyapi.weixin.qq.com": "wecom",
    "oapi.dingtalk.com": "dingtalk",
    "api.dingtalk.com": "dingtalk",
}


class DeliveryError(Exception):
    """A channel could not deliver a message (it will be retried, see ``outbox_deliver``)."""


def setting(name: str, default: Any) -> Any:
    """Return ``settings.<name>``, else the environment variable ``name``, else ``default``.

    Lists in the environment are comma-separated. (The notification settings live beside
    the code until the project settings module names them.)
    """
    if hasattr(settings, name):
        return getattr(settings, name)
    if name not in _env.ENVIRON:
        return default
    if isinstance(default, list):
        return _env.list(name)
    if isinstance(default, bool):
        return _env.bool(name)
    if isinstance(default, int):
        return _env.int(name)
    if isinstance(default, float):
        return _env.float(name)
    return _env.str(name)


# --- Webhook configuration -----------------------------------------------------------------


@dataclass(frozen=True)
class WebhookTarget:
    """One configured group robot: ``url`` without any secret fragment, ``secret`` for
    DingTalk's 加签 (empty when not used), ``label`` the secret-free name kept in the DB."""

    flavour: str
    url: str
    secret: str
    label: str


def webhook_target_parse(entry: str) -> WebhookTarget:
    """Parse one ``GRIDGOV_WEBHOOK_URLS`` entry.

    Forms: ``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`` (WeCom),
    ``https://oapi.dingtalk.com/robot/send?access_token=…#secret=SEC…`` (DingTalk; the
    ``#secret=`` fragment, never sent, is the 加签 secret), or any URL prefixed with
    ``wecom+`` / ``dingtalk+`` (a proxy, a test server). Raises ``ImproperlyConfigured``
    naming the entry (with its query string hidden) when it is not one of these.
    """
    text = entry.strip()
    flavour = ""
    for name in ("wecom", "dingtalk"):
        if text.startswith(f"{name}+"):
            flavour, text = name, text[len(name) + 1 :]
    parts = urllib.parse.urlsplit(text)
    shown = f"{parts.scheme}://{parts.netloc}{parts.path}"
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ImproperlyConfigured(f"GRIDGOV_WEBHOOK_URLS: {shown!r} is not an http(s) URL.")
    flavour = flavour or FLAVOUR_HOSTS.get(parts.hostname or "", "")
    if not flavour:
        raise ImproperlyConfigured(
            f"GRIDGOV_WEBHOOK_URLS: cannot tell whether {shown!r} is a WeCom or a DingTalk "
            "robot; prefix it with 'wecom+' or 'dingtalk+'."
        )
    secret = urllib.parse.parse_qs(parts.fragment).get("secret", [""])[0]
    url = urllib.parse.urlunsplit(parts._replace(fragment=""))
    digest = hashlib.sha256(url.encode()).hexdigest()[:12]
    return WebhookTarget(flavour, url, secret, f"{flavour}:{parts.hostname}:{digest}")


def webhook_targets() -> list[WebhookTarget]:
    """Return the configured group robots (``GRIDGOV_WEBHOOK_URLS``), in order."""
    entries = setting("GRIDGOV_WEBHOOK_URLS", [])
    if isinstance(entries, str):
        entries = [e for e in entries.split(",") if e.strip()]
    return [webhook_target_parse(e) for e in entries if e.strip()]


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """Return DingTalk's ``sign`` for ``timestamp_ms``: Base64(HMAC-SHA256(key=secret,
    msg="<timestamp>\\n<secret>")), not yet URL-encoded.

    Source: DingTalk 自定义机器人安全设置 — 加签. The timestamp (milliseconds) must be
    within one hour of DingTalk's clock, so messages are signed when sent, not when queued.
    """
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _truncate_utf8(text: str, limit: int) -> str:
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode(errors="ignore") + "…"


def webhook_content(payload: dict[str, Any]) -> str:
    """Render a message's text: title, body, the task number and the recipients."""
    lines = [f"【{payload.get('title', '')}】"]
    if payload.get("body"):
        lines.append(str(payload["body"]))
    if payload.get("task_number"):
        lines.append(f"#{payload['task_number']}")
    if payload.get("recipients"):
        lines.append("→ " + "、".join(str(r) for r in payload["recipients"]))
    return "\n".join(lines)


def webhook_body(flavour: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Return the JSON body of a ``text`` message for ``flavour`` (``wecom``/``dingtalk``).

    Both robots take ``{"msgtype": "text", "text": {"content": …}}``; the content is cut
    to the robot's limit (``CONTENT_LIMITS``).
    """
    content = _truncate_utf8(webhook_content(payload), CONTENT_LIMITS[flavour])
    return {"msgtype": "text", "text": {"content": content}}


def webhook_post(
    target: WebhookTarget, body: dict[str, Any], *, timeout: float, now_ms: int | None = None
) -> None:
    """POST ``body`` to the robot; raise ``DeliveryError`` unless it answered ``errcode`` 0.

    Both robots answer HTTP 200 with ``{"errcode": 0, "errmsg": "ok"}`` on success and a
    non-zero ``errcode`` otherwise (e.g. WeCom 45009 / DingTalk 130101: too many messages
    a minute — both allow 20 — or DingTalk 310000: bad signature).
    """
    url = target.url
    if target.flavour == "dingtalk" and target.secret:
        timestamp = now_ms if now_ms is not None else int(time.time() * 1000)
        query = urllib.parse.urlencode(
            {"timestamp": timestamp, "sign": dingtalk_sign(target.secret, timestamp)}
        )
        url = f"{url}{'&' if '?' in url else '?'}{query}"
    request = urllib.request.Request(  # noqa: S310 - the scheme was checked to be http(s)
        url,
        data=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            raw = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code} from {target.label}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"cannot reach {target.label}: {reason}") from exc
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        raise DeliveryError(f"{target.label} answered something that is not JSON") from None
    errcode = answer.get("errcode", 0) if isinstance(answer, dict) else 0
    if errcode not in (0, "0"):
        raise DeliveryError(f"{target.label} refused: errcode {errcode} {answer.get('errmsg')}")


# --- The registry --------------------------------------------------------------------------


class Channel:
    """A way notifications leave gridgov.

    ``per_recipient``: one outbox message per recipient (``targets`` gives user ids) or one
    per channel target for everyone (a group robot). ``uses_outbox``: false for the inbox,
    whose row *is* the delivery.
    """

    name: ClassVar[str]
    per_recipient: ClassVar[bool] = True
    uses_outbox: ClassVar[bool] = True

    def group_targets(self) -> list[str]:
        """For a group channel: the targets every notification goes to."""
        return []

    def accepts(self, kind: str) -> bool:
        """Whether this channel carries notifications of ``kind``."""
        return True

    def send(self, message: OutboxMessage) -> None:
        """Deliver ``message``; raise ``DeliveryError`` to have it retried."""
        raise NotImplementedError


CHANNELS: dict[str, type[Channel]] = {}


def channel_register(cls: type[Channel]) -> type[Channel]:
    """Class decorator: make ``cls`` available under ``cls.name``."""
    CHANNELS[cls.name] = cls
    return cls


@channel_register
class InboxChannel(Channel):
    name = "inbox"
    uses_outbox = False


@channel_register
class LogChannel(Channel):
    name = "log"

    def send(self, message: OutboxMessage) -> None:
        payload = message.payload
        logger.info(
            "notification to user %s [%s] %s — %s",
            message.target,
            message.kind,
            payload.get("title", ""),
            payload.get("body", ""),
        )


@channel_register
class WebhookChannel(Channel):
    """Group robots (WeCom / DingTalk): one message per robot per notification.

    ``GRIDGOV_WEBHOOK_KINDS`` (a list; empty = every kind) keeps a busy group to the
    kinds it wants: each robot takes only 20 messages a minute.
    """

    name = "webhook"
    per_recipient = False

    def group_targets(self) -> list[str]:
        return [t.label for t in webhook_targets()]

    def accepts(self, kind: str) -> bool:
        kinds = setting("GRIDGOV_WEBHOOK_KINDS", [])
        return not kinds or kind in kinds

    def send(self, message: OutboxMessage) -> None:
        target = next((t for t in webhook_targets() if t.label == message.target), None)
        if target is None:
            raise DeliveryError(f"{message.target} is no longer in GRIDGOV_WEBHOOK_URLS")
        timeout = float(setting("GRIDGOV_WEBHOOK_TIMEOUT", 5.0))
        webhook_post(target, webhook_body(target.flavour, message.payload), timeout=timeout)


def channels_enabled() -> list[Channel]:
    """Return the channels named in ``GRIDGOV_NOTIFICATION_CHANNELS``, in order.

    Raises ``ImproperlyConfigured`` for a name that is not registered.
    """
    names = setting("GRIDGOV_NOTIFICATION_CHANNELS", list(DEFAULT_CHANNELS))
    if isinstance(names, str):
        names = [n for n in names.split(",") if n.strip()]
    result = []
    for name in names:
        cls = CHANNELS.get(name.strip())
        if cls is None:
            raise ImproperlyConfigured(
                f"GRIDGOV_NOTIFICATION_CHANNELS: unknown channel {name!r}; "
                f"known: {', '.join(sorted(CHANNELS))}."
            )
        result.append(cls())
    return result


def channel_get(name: str) -> Channel | None:
    """Return an instance of the registered channel ``name`` (``None`` if unknown)."""
    cls = CHANNELS.get(name)
    return None if cls is None else cls()
