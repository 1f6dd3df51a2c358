"""Why a command was refused, in Chinese and English, with the kind of refusal."""
from __future__ import annotations

from typing import Literal

RefusalKind = Literal["state", "forbidden", "invalid", "not_found"]


class Refused(Exception):
    """A command the matter's state, the caller's unit or the rules do not allow.

    ``field``: the request field the refusal is about (``occurred_at``, ``head_count`` …), named in the answer."""

    def __init__(self, kind: RefusalKind, code: str, zh: str, en: str, field: str | None = None) -> None:
        super().__init__(f"{zh} {en}")
        self.kind, self.code, self.zh, self.en, self.field = kind, code, zh, en, field
