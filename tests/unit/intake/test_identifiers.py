"""The identifiers a person is found by: one written form each, and their blind indexes."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.domain import identifiers
from intake.domain.errors import Refused
from intake.domain.model import PetitionState
from intake.domain.repeats import may_repeat
from intake.keyring import Keyring
from xinfang.encryption import blind_index, index_key

VALID = "11010519491231002X"  # GB 11643's own example


def refused(normalise, text: str, field: str) -> Refused:
    with pytest.raises(Refused) as caught:
        normalise(text)
    assert (caught.value.kind, caught.value.field) == ("invalid", field)
    return caught.value


def test_an_identity_number_is_kept_in_its_18_character_form_with_an_upper_case_x():
    assert identifiers.id_number(VALID) == VALID
    assert identifiers.id_number(" 11010519491231002x ") == VALID


def test_a_wrong_check_character_is_refused_naming_the_field():
    assert refused(identifiers.id_number, "110105194912310021", "id_number").code == "id_number_check"


@pytest.mark.parametrize("text", ["1101051949123100", "11010519491331002X", "110105194902300026", "ABCDEF19491231002X",
                                  "１１０１０５１９４９１２３１００２Ｘ", "²" * 18])
def test_a_number_of_another_length_or_birth_date_is_refused(text):
    assert refused(identifiers.id_number, text, "id_number").code == "id_number"


def test_an_old_15_digit_number_becomes_the_18_character_number_of_the_same_person():
    # 15 digits: area, birth date without its century, sequence; the new number adds 19 and a check character
    assert identifiers.id_number("110105491231002") == VALID


@given(st.integers(0, 10**17 - 1))
def test_exactly_one_check_character_completes_any_17_digits(n):
    first17 = f"{n:017d}"
    accepted = []
    for last in "0123456789X":
        try:
            identifiers.id_number(first17 + last)
            accepted.append(last)
        except Refused:
            pass
    assert len(accepted) <= 1  # none where the digits hold no valid birth date


@pytest.mark.parametrize("text", ["13800000000", "138 0000 0000", "138-0000-0000", "+86 138 0000 0000",
                                  "+8613800000000", "0086 13800000000", "8613800000000", "(+86) 138.0000.0000"])
def test_a_mobile_number_in_any_of_its_written_forms_is_one_number(text):
    assert identifiers.phone(text) == "13800000000"


@pytest.mark.parametrize("text", ["010-8888 8888", "+86 10 8888 8888", "0086-10-88888888", "+86 010 88888888"])
def test_a_landline_keeps_its_trunk_zero_and_gets_it_back_after_the_country_code(text):
    assert identifiers.phone(text) == "01088888888"


@pytest.mark.parametrize("text", ["+1 202 555 0100", "1234", "12345678901234567", "138000000OO", "１３８００００００００"])
def test_a_foreign_short_long_or_lettered_number_is_refused(text):
    refused(identifiers.phone, text, "phone")


def test_a_blind_index_is_a_keyed_hash_one_key_per_kind_derived_from_the_master_key():
    master = b"k" * 32
    id_key, phone_key = index_key(master, "id_number"), index_key(master, "phone")
    assert id_key != phone_key and master not in (id_key, phone_key)
    assert index_key(master, "id_number") == id_key  # derived, so never stored
    assert blind_index(id_key, VALID) == blind_index(id_key, VALID)
    assert blind_index(id_key, VALID) != blind_index(phone_key, VALID)
    assert blind_index(index_key(b"j" * 32, "id_number"), VALID) != blind_index(id_key, VALID)
    assert blind_index(id_key, VALID) != hashlib.sha256(VALID.encode()).digest()  # no guessing without the key


def test_a_petitioner_is_indexed_by_the_identifiers_given_in_a_valid_form_only():
    keyring = Keyring(b"k" * 32, "aes-gcm")
    both = keyring.blind_indexes("r1", {"name": "张三", "id_number": VALID.lower(), "phone": "+86 138 0000 0000"})
    assert both == [("id_number", keyring.digest("id_number", VALID), "r1"),
                    ("phone", keyring.digest("phone", "13800000000"), "r1")]
    assert keyring.blind_indexes("r2", {"name": "李四", "id_number": "110105194912310021", "phone": None}) == []


NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def matter(status: str, last_step: datetime) -> PetitionState:
    return PetitionState(petition_id="p", receipt_no="r", status=status, jurisdiction="361402001001",
                         category="labour", registered_unit="u", registered_at=last_step - timedelta(days=30),
                         last_fact_at=last_step)


@pytest.mark.parametrize("status", ["registered", "assigned", "accepted", "review_requested", "recheck_requested"])
def test_an_open_matter_may_be_repeated_however_old(status):
    assert may_repeat(matter(status, NOW - timedelta(days=3000)), NOW, timedelta(days=365))


@pytest.mark.parametrize("status", ["replied", "declined", "withdrawn", "terminated", "rechecked"])
def test_a_closed_matter_may_be_repeated_within_the_window_of_its_last_step_only(status):
    window = timedelta(days=365)
    assert may_repeat(matter(status, NOW - window), NOW, window)
    assert not may_repeat(matter(status, NOW - window - timedelta(seconds=1)), NOW, window)
