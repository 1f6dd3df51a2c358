"""Why a command was refused, in Chinese and English, with the kind of refusal."""
from __future__ import annotations

from typing import Literal

RefusalKind = Literal["state", "forbidden", "invalid", "not_found"]


class Refused(Exception):
    """A command the matter's state, the caller's unit or the rules do not allow.

    ``field``: the request field the refusal is about (``occurred_at``, ``head_count`` …), named in the answer;
    ``item``: the part of a request of several facts it is about (``batches.1``, ``actions.2``), prefixed to it."""

    def __init__(self, kind: RefusalKind, code: str, zh: str, en: str, field: str | None = None,
                 item: str | None = None) -> None:
        super().__init__(f"{zh} {en}")
        self.kind, self.code, self.zh, self.en, self.field, self.item = kind, code, zh, en, field, item

    def within(self, item: str) -> Refused:
        """The same refusal, about ``item`` of the request: its field named from the request's top."""
        if self.item is not None:
            return self
        field = item if self.field is None else self.field if self.field.startswith(f"{item}.") else \
            f"{item}.{self.field}"
        return Refused(self.kind, self.code, self.zh, self.en, field, item)
