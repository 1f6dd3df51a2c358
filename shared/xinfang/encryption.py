"""Encrypting personal data: per-petitioner data keys, wrapped by a master key (envelope encryption).

A petitioner's fields are encrypted with their own data key before they reach the event
store or Kafka; the data key rests only wrapped by the master key (from the environment),
in intake's database.  Destroying the wrapped key erases the fields everywhere, the
immutable log included (crypto-shredding); hash chains, computed over the ciphertext, stay valid.

Algorithms: AES-256-GCM, or SM4-GCM (GB/T 32907) for deployments under China's
commercial-cryptography assessment (GB/T 39786).  Encrypted text:
``enc:<alg>:<key id>:<nonce, base64url>:<ciphertext+tag, base64url>``; ``erased`` once shredded.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

CipherAlgorithm = Literal["aes-gcm", "sm4-gcm"]
ERASED = "erased"
KEY_BYTES = {"aes-gcm": 32, "sm4-gcm": 16}
_TAG = 16


class DecryptionError(ValueError):
    """An encrypted value cannot be decrypted: wrong key, altered text or unknown format."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _encrypt(alg: CipherAlgorithm, key: bytes, nonce: bytes, plain: bytes, aad: bytes) -> bytes:
    if alg == "aes-gcm":
        return AESGCM(key).encrypt(nonce, plain, aad)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    return encryptor.update(plain) + encryptor.finalize() + encryptor.tag


def _decrypt(alg: CipherAlgorithm, key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    try:
        if alg == "aes-gcm":
            return AESGCM(key).decrypt(nonce, ciphertext, aad)
        decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, ciphertext[-_TAG:])).decryptor()
        decryptor.authenticate_additional_data(aad)
        return decryptor.update(ciphertext[:-_TAG]) + decryptor.finalize()
    except (InvalidTag, ValueError) as exc:
        raise DecryptionError("无法解密：密钥错误或密文被改动 cannot decrypt: wrong key or altered text") from exc


def new_data_key(alg: CipherAlgorithm) -> bytes:
    """A fresh random data key for one petitioner."""
    return os.urandom(KEY_BYTES[alg])


def wrap_key(master: bytes, alg: CipherAlgorithm, key_id: str, data_key: bytes) -> bytes:
    """The data key encrypted under the master key, bound to its key id."""
    nonce = os.urandom(12)
    return nonce + _encrypt(alg, master, nonce, data_key, f"dek:{key_id}".encode())


def unwrap_key(master: bytes, alg: CipherAlgorithm, key_id: str, wrapped: bytes) -> bytes:
    """The data key back from its wrapped form."""
    return _decrypt(alg, master, wrapped[:12], wrapped[12:], f"dek:{key_id}".encode())


def encrypt_field(alg: CipherAlgorithm, key_id: str, data_key: bytes, field: str, plain: str) -> str:
    """Encrypt one personal field; the field name is bound in, so values cannot be swapped."""
    nonce = os.urandom(12)
    ciphertext = _encrypt(alg, data_key, nonce, plain.encode(), f"{key_id}:{field}".encode())
    return f"enc:{alg}:{key_id}:{_b64(nonce)}:{_b64(ciphertext)}"


def parse_encrypted(text: str) -> tuple[CipherAlgorithm, str, bytes, bytes]:
    """Split encrypted text into algorithm, key id, nonce and ciphertext."""
    parts = text.split(":")
    if len(parts) != 5 or parts[0] != "enc" or parts[1] not in KEY_BYTES:
        raise DecryptionError(f"不是密文格式 not an encrypted value: {text[:24]!r}")
    return parts[1], parts[2], _unb64(parts[3]), _unb64(parts[4])  # type: ignore[return-value]


def decrypt_field(text: str, data_key: bytes | None, field: str) -> str | None:
    """The plain value, or None when the key was destroyed (erased)."""
    if text == ERASED or data_key is None:
        return None
    alg, key_id, nonce, ciphertext = parse_encrypted(text)
    return _decrypt(alg, data_key, nonce, ciphertext, f"{key_id}:{field}".encode()).decode()


def key_id_of(text: str) -> str | None:
    """The key id an encrypted value was made with (None for ``erased``)."""
    return None if text == ERASED else parse_encrypted(text)[1]


def master_key_from_text(text: str, alg: CipherAlgorithm) -> bytes:
    """Decode a base64 master key and check its length for the algorithm."""
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise ValueError("主密钥必须是 base64 the master key must be base64") from exc
    if len(key) != KEY_BYTES[alg]:
        raise ValueError(f"{alg} 主密钥须为 {KEY_BYTES[alg]} 字节 master key must be "
                         f"{KEY_BYTES[alg]} bytes, got {len(key)}")
    return key


# ---- blind indexes: finding a person by an identifier without decrypting anyone -------------------------------

def index_key(master: bytes, kind: str) -> bytes:
    """The key of one kind of blind index (``id_number``, ``phone``), derived from the master key (HKDF-SHA256,
    the kind as the domain-separating info): computed at start, never stored, and unlike any data key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"xinfang blind index v1",
                info=kind.encode()).derive(master)


def blind_index(key: bytes, normalised: str) -> bytes:
    """The keyed hash (HMAC-SHA256) of a normalised identifier: equal for equal identifiers, and without the key
    not to be computed from a guess (the space of identity numbers is small enough to walk)."""
    return hmac.new(key, normalised.encode(), hashlib.sha256).digest()
