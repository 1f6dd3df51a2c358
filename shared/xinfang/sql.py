"""Named parameters for PostgreSQL statements: ``:name`` in the text, ``$n`` for the driver.

A statement with a dozen positional parameters is read by counting; one with names is read as written.
:func:`named` numbers each distinct ``:name`` once (a name used twice is one parameter), leaves casts
(``::text[]``) alone, and :meth:`Named.args` turns a mapping into the positional arguments, refusing a
mapping that lacks a name the statement uses (a name the statement does not use is left out: one scope's
mapping serves every statement of a family, some of which need only part of it).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_NAME = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


@dataclass(frozen=True)
class Named:
    """A statement with its ``:name`` parameters numbered: ``sql`` for the driver, ``names`` in ``$n`` order."""

    sql: str
    names: tuple[str, ...]

    def args(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The positional arguments of ``values`` in ``$n`` order; KeyError naming what is missing."""
        missing = [name for name in self.names if name not in values]
        if missing:
            raise KeyError(f"statement parameters without a value: {', '.join(missing)}")
        return tuple(values[name] for name in self.names)


def named(text: str) -> Named:
    """Number the ``:name`` parameters of ``text`` (``$1`` for the first name met, and so on)."""
    order: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        return f"${order.setdefault(match.group(1), len(order) + 1)}"

    sql = _NAME.sub(number, text)
    if re.search(r"\$\d", text):
        raise ValueError("a statement with named parameters has no positional ones")
    return Named(sql, tuple(order))


__all__ = ["Named", "named"]
