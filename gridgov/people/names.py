"""How a staff user's name is shown."""

from __future__ import annotations

import re
from typing import Any

#: CJK Unified Ideographs (with extension A) and the compatibility block.
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def user_display_name(user: Any) -> str:
    """Return ``user``'s name as people write it: a Chinese name family name first with no
    space (``last_name`` 周 + ``first_name`` 指挥 → 周指挥), any other given name first
    (Ada Lovelace); the username when both parts are empty; ``""`` for ``None``.
    """
    if user is None:
        return ""
    first = (getattr(user, "first_name", "") or "").strip()
    last = (getattr(user, "last_name", "") or "").strip()
    if not (first or last):
        return str(user.get_username())
    if _HAN.search(first + last):
        return f"{last}{first}"
    return f"{first} {last}".strip()
