"""Every way a bearer token can be wrong gets 401 InvalidAuthenticationToken, in emulator and oidc mode,
with a WWW-Authenticate header saying what was wrong and nothing about the key; ``none`` mode reads no
token at all."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from graphlang.storage.store import derived_user_id
from tests.auth.conftest import MakeWorld, World
from tests.auth.idp import TENANT, Key, running_idp

PATH = "/beta/me/profile/languages"


@dataclass
class Issuer:
    """What a genuine token of one mode looks like, so each case can spoil exactly one thing."""

    client: TestClient
    private: rsa.RSAPrivateKey
    kid: str
    issuer: str
    audience: str
    tenant: str

    def claims(self, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        oid = derived_user_id(self.tenant, "mallory@contoso.com")
        claims = {"aud": self.audience, "iss": self.issuer, "iat": now, "nbf": now, "exp": now + 3600,
                  "tid": self.tenant, "oid": oid, "sub": oid, "scp": "User.ReadWrite",
                  "preferred_username": "mallory@contoso.com", "ver": "2.0"}
        claims.update(changes)
        return claims

    def sign(self, claims: dict[str, Any] | None = None, *, private: rsa.RSAPrivateKey | None = None,
             kid: str | None = None) -> str:
        import jwt

        return jwt.encode(claims or self.claims(), private or self.private, algorithm="RS256",
                          headers={"kid": kid or self.kid})

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)

    def modulus(self) -> str:
        n = self.private.public_key().public_numbers().n
        return base64.urlsafe_b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()


def emulator_issuer(world: World) -> Issuer:
    settings, key = world.services.settings, world.services.key
    return Issuer(world.client, key.private_key, key.kid, settings.emulator_issuer(settings.tenant),
                  settings.audiences[0], settings.tenant)


@pytest.fixture(scope="module", params=["emulator", "oidc"])
def issuer(request: pytest.FixtureRequest, make_shared_world: MakeWorld) -> Iterator[Issuer]:
    if request.param == "emulator":
        yield emulator_issuer(make_shared_world())
        return
    with running_idp() as idp:
        world = make_shared_world(auth="oidc", oidc_discovery_url=idp.discovery_url, audiences=("api://graphlang",),
                                  oidc_refresh_interval=0)
        key = idp.keys[0]
        yield Issuer(world.client, key.private, key.kid, idp.issuer(TENANT), "api://graphlang", TENANT)


@pytest.fixture(scope="module")
def none_mode(make_shared_world: MakeWorld) -> World:
    return make_shared_world(auth="none", none_user="devon@contoso.com")


def _segment(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()


def _unsigned(issuer: Issuer, alg: str) -> str:
    return f"{_segment({'alg': alg, 'typ': 'JWT', 'kid': issuer.kid})}.{_segment(issuer.claims())}."


def _hs256_with_public_key(issuer: Issuer) -> str:
    signing_input = f"{_segment({'alg': 'HS256', 'typ': 'JWT', 'kid': issuer.kid})}.{_segment(issuer.claims())}"
    mac = hmac.new(issuer.public_pem(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def _tampered(issuer: Issuer) -> str:
    header, _payload, signature = issuer.sign().split(".")
    return f"{header}.{_segment(issuer.claims(scp='User.ReadWrite.All'))}.{signature}"


def _no_kid(issuer: Issuer) -> str:
    import jwt

    return jwt.encode(issuer.claims(), issuer.private, algorithm="RS256")


Authorization = Callable[[Issuer], str | None]
CASES: list[tuple[str, Authorization, str]] = [
    ("missing header", lambda i: None, "no Authorization header"),
    ("basic scheme", lambda i: "Basic YWxpY2U6c2VjcmV0", "not 'Bearer <token>'"),
    ("bearer without a token", lambda i: "Bearer ", "not 'Bearer <token>'"),
    ("not a jwt", lambda i: "Bearer not.a-jwt", "not a well-formed JWT"),
    ("bad signature", lambda i: f"Bearer {i.sign(private=Key(9).private)}", "signature is invalid"),
    ("payload changed after signing", lambda i: f"Bearer {_tampered(i)}", "signature is invalid"),
    ("alg none", lambda i: f"Bearer {_unsigned(i, 'none')}", "algorithm 'none' is not accepted"),
    ("HS256 signed with the public key", lambda i: f"Bearer {_hs256_with_public_key(i)}",
     "algorithm 'HS256' is not accepted"),
    ("no kid", lambda i: f"Bearer {_no_kid(i)}", "no kid"),
    ("unknown kid", lambda i: f"Bearer {i.sign(kid='not-a-known-kid')}", "unknown key"),
    ("expired beyond the skew", lambda i: f"Bearer {i.sign(i.claims(exp=int(time.time()) - 400))}", "expired"),
    ("nbf beyond the skew", lambda i: f"Bearer {i.sign(i.claims(nbf=int(time.time()) + 400))}",
     "not valid yet"),
    ("iat beyond the skew", lambda i: f"Bearer {i.sign(i.claims(iat=int(time.time()) + 400))}",
     "iat is in the future"),
    ("wrong audience", lambda i: f"Bearer {i.sign(i.claims(aud='https://management.azure.com'))}", "audience"),
    ("wrong issuer", lambda i: f"Bearer {i.sign(i.claims(iss='https://sts.evil.example/x/v2.0'))}", "issuer"),
]


@pytest.mark.parametrize(("case", "authorization", "reason"), CASES, ids=[c[0] for c in CASES])
def test_forged_token_is_401_saying_what_was_wrong(issuer: Issuer, case: str, authorization: Authorization,
                                                   reason: str) -> None:
    value = authorization(issuer)
    response = issuer.client.get(PATH, headers={} if value is None else {"Authorization": value})

    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert reason in challenge
    for secret_detail in (issuer.modulus(), "BEGIN", "PUBLIC KEY", issuer.public_pem().decode().splitlines()[1]):
        assert secret_detail not in challenge
        assert secret_detail not in response.text


def test_two_authorization_headers_are_401_even_when_both_carry_a_genuine_token(issuer: Issuer) -> None:
    genuine = f"Bearer {issuer.sign()}"
    response = issuer.client.get(PATH, headers=[("Authorization", genuine), ("Authorization", genuine)])

    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert "more than one Authorization header" in response.headers["www-authenticate"]


def test_a_second_authorization_header_cannot_ride_on_a_genuine_first_one(issuer: Issuer) -> None:
    headers = [("Authorization", f"Bearer {issuer.sign()}"), ("Authorization", "Bearer not.a-jwt")]
    response = issuer.client.post(PATH, headers=headers, json={"tag": "en-US"})

    assert response.status_code == 401, response.text
    listed = issuer.client.get(PATH, headers={"Authorization": f"Bearer {issuer.sign()}"})
    assert [item["tag"] for item in listed.json()["value"]].count("en-US") == 0


@pytest.mark.parametrize(("claim", "offset"), [("exp", -200), ("nbf", 200)], ids=["expired within", "nbf within"])
def test_five_minutes_of_clock_skew_are_allowed(issuer: Issuer, claim: str, offset: int) -> None:
    token = issuer.sign(issuer.claims(**{claim: int(time.time()) + offset}))
    response = issuer.client.get(PATH, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text


def test_a_genuine_token_is_accepted(issuer: Issuer) -> None:
    response = issuer.client.get(PATH, headers={"Authorization": f"Bearer {issuer.sign()}"})
    assert response.status_code == 200, response.text


def test_expired_token_uses_graphs_lifetime_message(issuer: Issuer) -> None:
    token = issuer.sign(issuer.claims(exp=int(time.time()) - 4000))
    response = issuer.client.get(PATH, headers={"Authorization": f"Bearer {token}"})
    assert response.json()["error"]["message"] == "Lifetime validation failed, the token is expired."


@pytest.mark.parametrize(("case", "authorization", "reason"), CASES, ids=[c[0] for c in CASES])
def test_none_mode_reads_no_token_and_acts_as_the_configured_user(none_mode: World, case: str,
                                                                   authorization: Authorization,
                                                                   reason: str) -> None:
    value = authorization(emulator_issuer(none_mode))
    response = none_mode.client.get("/beta/me/profile", headers={} if value is None else {"Authorization": value})

    assert response.status_code == 200, response.text
    settings = none_mode.services.settings
    assert response.json()["id"] == derived_user_id(settings.tenant, "devon@contoso.com")
