"""The two personal identifiers a clerk finds a person by, in one written form each (pure, no I/O).

An identifier is keyed-hashed in its normalised form (``intake.keyring``: blind indexes), so the same person is
found whatever form the clerk typed: ``36140219800101123x`` and ``36140219800101123X``; the 15-digit number of an
old card (first generation, before 2004) and the 18-digit number it became; ``+86 138-0000-0000`` and
``13800000000``.
"""
from __future__ import annotations

from datetime import date

from intake.domain.errors import Refused

# GB 11643-1999: the check character of the 18-digit citizen identity number (居民身份证号码校验码), ISO 7064 MOD 11-2
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SEPARATORS = str.maketrans("", "", " -.()（）\u00a0\u3000")


def check_character(first17: str) -> str:
    """The 18th character of an identity number whose first 17 digits are ``first17``."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def _born(digits: str) -> bool:
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8])) >= date(1850, 1, 1)
    except ValueError:
        return False


def id_number(text: str, field: str = "id_number") -> str:
    """The 18-digit form of a citizen identity number (check character validated, an old 15-digit number converted);
    :class:`Refused` naming ``field`` for anything else."""
    value = text.strip().upper()
    if not value.isascii():  # str.isdigit() holds for ２ and ² too
        value = ""
    if len(value) == 15 and value.isdigit():
        # a first-generation number: birth year without its century (all were 19xx), no check character
        value = value[:6] + "19" + value[6:]
        value += check_character(value)
    if len(value) != 18 or not value[:17].isdigit() or not _born(value[6:14]):
        raise Refused("invalid", "id_number", "身份证号码应为18位（或旧版15位），出生日期有效",
                      "an identity number has 18 characters (or 15 on an old card) with a valid birth date", field)
    if value[17] != check_character(value[:17]):
        raise Refused("invalid", "id_number_check", "身份证号码校验码不符，请核对",
                      "the identity number's check character does not match: check the number", field)
    return value


def phone(text: str, field: str = "phone") -> str:
    """A phone number as dialled inside China: separators and the country code (+86, 0086) dropped, a landline's
    trunk 0 kept (or restored after a country code); :class:`Refused` naming ``field`` for anything else."""
    value = text.translate(_SEPARATORS)
    international = value.startswith(("+86", "0086"))
    value = value.removeprefix("+86") if value.startswith("+") else value.removeprefix("0086")
    if not international and len(value) == 13 and value.startswith("861"):
        value = value[2:]  # 86 and a mobile number, the + lost
    if international and (not value.startswith(("0", "1")) or len(value) < 11):
        value = "0" + value  # +86 10 8888 8888 is 010 8888 8888; a mobile (11 digits, 1…) keeps its form
    if not (value.isascii() and value.isdigit()) or not 5 <= len(value) <= 15:
        raise Refused("invalid", "phone", "电话号码应为5至15位数字（可带+86、空格或连字符）",
                      "a phone number has 5 to 15 digits (+86, spaces and hyphens allowed)", field)
    return value
