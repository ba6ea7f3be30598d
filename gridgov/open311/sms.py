"""SMS senders for the resident page's verification codes (``GRIDGOV_OPEN311_SMS_BACKEND``).

A backend is a class with ``send(*, phone, text)``. ``LogSmsBackend`` writes the message to
the ``gridgov.open311.sms`` log (development, demos, tests); a real SMS gateway gets its own
class with the same method.
"""

from __future__ import annotations

import logging

from gridgov.people.masking import mask_phone

logger = logging.getLogger(__name__)


class LogSmsBackend:
    """Write each message to the log, the phone number masked, the text whole — at
    WARNING, so that the default logging (root at WARNING) shows the code on the console
    of a demo or development server. Not for production: it is no SMS."""

    def send(self, *, phone: str, text: str) -> None:
        logger.warning("SMS to %s (log backend, not sent): %s", mask_phone(phone), text)


class MemorySmsBackend:
    """Keep each message in ``MemorySmsBackend.outbox`` (a class-level list; tests)."""

    outbox: list[tuple[str, str]] = []

    def send(self, *, phone: str, text: str) -> None:
        self.outbox.append((phone, text))
