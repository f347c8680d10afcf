"""Opaque, signed ``$skiptoken`` values holding a keyset position.

A token is ``base64url(mac || json(values))``: the sort-key values of the last row served, with an
HMAC-SHA256 (truncated to 128 bits) over the values and the query they belong to. The HMAC key is
derived from the service's signing key, which every instance shares, so any instance accepts any
instance's tokens; a token that was altered, or that came from another query or user, fails the check.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from graphlang.errors import BadRequest

MAC_BYTES = 16
_INFO = b"graphlang skiptoken v1"


def derive_secret(private_key: rsa.RSAPrivateKey) -> bytes:
    der = private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(der)


def invalid_skiptoken() -> BadRequest:
    return BadRequest("The $skiptoken is not valid for this request: it was altered, or it belongs to "
                      "another query. Start again from the first page.")


def _mac(secret: bytes, binding: str, payload: bytes) -> bytes:
    message = binding.encode() + b"\x00" + payload
    return hmac.new(secret, message, hashlib.sha256).digest()[:MAC_BYTES]


def encode(secret: bytes, binding: str, values: Sequence[Any]) -> str:
    payload = orjson.dumps(list(values))
    return base64.urlsafe_b64encode(_mac(secret, binding, payload) + payload).rstrip(b"=").decode()


def decode(secret: bytes, binding: str, token: str) -> list[Any]:
    """The values in ``token``; BadRequest unless it was signed for exactly this binding."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as exc:
        raise invalid_skiptoken() from exc
    mac, payload = raw[:MAC_BYTES], raw[MAC_BYTES:]
    if len(mac) != MAC_BYTES or not hmac.compare_digest(mac, _mac(secret, binding, payload)):
        raise invalid_skiptoken()
    values = orjson.loads(payload)
    if not isinstance(values, list):
        raise invalid_skiptoken()
    return values
