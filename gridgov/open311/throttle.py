"""A fixed-window request counter in the Django cache, for throttling per api key and per
client IP address (``GRIDGOV_OPEN311_THROTTLE_*``).

With a shared cache (Redis, Memcached) the limit holds across processes; the default
local-memory cache counts per process.
"""

from __future__ import annotations

import time

from django.core.cache import cache


def throttle_hit(*, scope: str, ident: str, limit: int, window_s: int) -> int:
    """Count one request of ``ident`` in ``scope``; return 0 when it is within ``limit``
    requests per ``window_s`` seconds, else the seconds until the window ends (the
    ``Retry-After``). A ``limit`` of 0 or less disables the check."""
    if limit <= 0:
        return 0
    now = time.time()
    window = int(now // window_s)
    key = f"open311:throttle:{scope}:{ident}:{window}"
    if cache.add(key, 1, timeout=window_s + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=window_s + 1)
            count = 1
    if count <= limit:
        return 0
    return max(1, int((window + 1) * window_s - now))
