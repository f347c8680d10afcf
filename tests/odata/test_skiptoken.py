"""Skiptokens: opaque, signed, bound to their query, and refused when altered."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from graphlang.errors import BadRequest
from graphlang.odata import skiptoken

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
SECRET = skiptoken.derive_secret(KEY)
POSITION = [15_941_000_000_000_000, None, 0.25, True, "d1f0c6a4-0000-4000-8000-000000000001"]


def test_a_token_round_trips_its_position() -> None:
    token = skiptoken.encode(SECRET, "q", POSITION)
    assert skiptoken.decode(SECRET, "q", token) == POSITION
    assert all(c.isalnum() or c in "-_" for c in token)


def test_the_secret_is_derived_from_the_key_deterministically() -> None:
    assert skiptoken.derive_secret(KEY) == SECRET
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert skiptoken.derive_secret(other) != SECRET


@pytest.mark.parametrize("tamper", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
    lambda t: ("A" if t[0] != "A" else "B") + t[1:],
    lambda t: t[:30],
    lambda t: "",
    lambda t: "not base64!",
    lambda t: base64.urlsafe_b64encode(b"\0" * 16 + b'[1,"x"]').decode(),
])
def test_an_altered_token_is_refused(tamper: object) -> None:
    token = skiptoken.encode(SECRET, "q", POSITION)
    with pytest.raises(BadRequest) as caught:
        skiptoken.decode(SECRET, "q", tamper(token))  # type: ignore[operator]
    assert "$skiptoken is not valid" in caught.value.message


def test_a_token_for_another_query_or_key_is_refused() -> None:
    token = skiptoken.encode(SECRET, "user-a|tag asc", POSITION)
    with pytest.raises(BadRequest):
        skiptoken.decode(SECRET, "user-b|tag asc", token)
    other = skiptoken.derive_secret(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    with pytest.raises(BadRequest):
        skiptoken.decode(other, "user-a|tag asc", token)
