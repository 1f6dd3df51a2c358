"""Personal fields encrypted with AES-GCM or SM4-GCM under per-petitioner keys."""
import pytest

from xinfang.encryption import (
    DecryptionError,
    decrypt_field,
    encrypt_field,
    key_id_of,
    new_data_key,
    unwrap_key,
    wrap_key,
)


@pytest.mark.parametrize("alg", ["aes-gcm", "sm4-gcm"])
def test_round_trip_and_key_wrapping(alg):
    master, dek = new_data_key(alg), new_data_key(alg)
    wrapped = wrap_key(master, alg, "p1", dek)
    assert unwrap_key(master, alg, "p1", wrapped) == dek
    text = encrypt_field(alg, "p1", dek, "id_number", "110105199001011234")
    assert "110105199001011234" not in text and text.startswith(f"enc:{alg}:p1:")
    assert decrypt_field(text, dek, "id_number") == "110105199001011234"
    assert key_id_of(text) == "p1"


@pytest.mark.parametrize("alg", ["aes-gcm", "sm4-gcm"])
def test_wrong_key_wrong_field_and_tampering_are_refused(alg):
    dek = new_data_key(alg)
    text = encrypt_field(alg, "p1", dek, "name", "张三")
    with pytest.raises(DecryptionError):
        decrypt_field(text, new_data_key(alg), "name")
    with pytest.raises(DecryptionError):
        decrypt_field(text, dek, "phone")  # a value moved to another field
    flipped = text[:-2] + ("A" if text[-2] != "A" else "B") + text[-1]
    with pytest.raises(DecryptionError):
        decrypt_field(flipped, dek, "name")
    with pytest.raises(DecryptionError):
        unwrap_key(new_data_key(alg), alg, "p1", wrap_key(new_data_key(alg), alg, "p1", dek))


def test_a_destroyed_key_reads_as_erased():
    dek = new_data_key("aes-gcm")
    text = encrypt_field("aes-gcm", "p1", dek, "name", "张三")
    assert decrypt_field(text, None, "name") is None
    assert decrypt_field("erased", dek, "name") is None
