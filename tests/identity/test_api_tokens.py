"""Access tokens: GET /v1/users/me, POST /v1/auth/logout, the JWK set, rotation."""

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt import PyJWKSet

from identity.adapters.access_tokens import (
    AccessTokens,
    KeyRing,
    generate_private_key_pem,
)
from identity.settings import IdentitySettings
from shared.events import EventType
from tests.identity.conftest import Identity, bearer, problem_code, running


async def test_me_shows_the_bearers_account(identity: Identity) -> None:
    user_id = await identity.register_verified("Ada@Example.com")
    token = await identity.access_token("ada@example.com")

    answer = await identity.http.get("/v1/users/me", headers=bearer(token))

    assert answer.status_code == 200
    body = answer.json()
    assert body["user_id"] == user_id
    assert body["email"] == "Ada@example.com"
    assert body["email_verified"] is True
    registered = await identity.last(EventType.REGISTRATION_SUCCESS)
    assert datetime.fromisoformat(body["created_at"]) == registered.occurred_at


async def test_the_token_verifies_against_the_published_key_set(
    identity: Identity,
) -> None:
    await identity.register_verified("ada@example.com")
    token = await identity.access_token("ada@example.com")

    jwks = (await identity.http.get("/.well-known/jwks.json")).json()
    header = jwt.get_unverified_header(token)
    key = PyJWKSet.from_dict(jwks)[header["kid"]]
    claims = jwt.decode(
        token,
        key.key,
        algorithms=["EdDSA"],
        audience="authtrail",
        issuer="authtrail-identity",
        options={"require": ["iss", "aud", "sub", "iat", "exp", "jti"]},
    )

    assert header["alg"] == "EdDSA"
    assert UUID(claims["sub"])
    assert [k["kty"] for k in jwks["keys"]] == ["OKP"]


async def test_logout_revokes_that_token_only(identity: Identity) -> None:
    await identity.register_verified("ada@example.com")
    first = await identity.access_token("ada@example.com")
    second = await identity.access_token("ada@example.com")

    answer = await identity.http.post("/v1/auth/logout", headers=bearer(first))

    assert answer.status_code == 204
    assert (
        await identity.http.get("/v1/users/me", headers=bearer(first))
    ).status_code == 401
    assert (
        await identity.http.get("/v1/users/me", headers=bearer(second))
    ).status_code == 200
    again = await identity.http.post("/v1/auth/logout", headers=bearer(first))
    assert again.status_code == 401
    logout = await identity.last(EventType.LOGOUT)
    jti = jwt.decode(first, options={"verify_signature": False})["jti"]
    assert logout.data.token_id == jti  # type: ignore[attr-defined]


def _forge(identity: Identity, **changes: object) -> str:
    """A token like ours with one thing changed."""
    claims: dict[str, object] = {
        "iss": "authtrail-identity",
        "aud": "authtrail",
        "sub": "00000000-0000-4000-8000-000000000001",
        "iat": int(datetime.now(UTC).timestamp()),
        "exp": int(datetime.now(UTC).timestamp()) + 3600,
        "jti": "abc",
        "gen": 0,
    }
    claims.update(changes)
    return jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA")


def _unsigned(header: dict[str, str], claims: dict[str, str]) -> str:
    def part(value: dict[str, str]) -> str:
        return (
            base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
        )

    return f"{part({**header, 'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


@pytest.mark.parametrize(
    "case",
    ["missing", "malformed", "expired", "foreign-key", "alg-none", "wrong-audience"],
)
async def test_me_refuses_tokens_that_are_not_ours_or_not_valid(
    identity: Identity, case: str
) -> None:
    user_id = await identity.register_verified("ada@example.com")
    real = await identity.access_token("ada@example.com")
    ring = identity.app.state.runtime.keys
    own = AccessTokens(
        ring, issuer="authtrail-identity", audience="authtrail", ttl=timedelta(hours=24)
    )
    header = jwt.get_unverified_header(real)
    tokens = {
        "missing": None,
        "malformed": "not.a.jwt",
        "expired": own.issue(
            UUID(user_id), "old", 0, datetime.now(UTC) - timedelta(hours=25)
        ).token,
        "foreign-key": _forge(identity, sub=user_id),
        "alg-none": _unsigned({"kid": header["kid"]}, {"sub": user_id, "jti": "x"}),
        "wrong-audience": AccessTokens(
            ring,
            issuer="authtrail-identity",
            audience="elsewhere",
            ttl=timedelta(hours=1),
        )
        .issue(UUID(user_id), "aud", 0, datetime.now(UTC))
        .token,
    }
    token = tokens[case]

    answer = await identity.http.get(
        "/v1/users/me", headers=bearer(token) if token else {}
    )

    assert answer.status_code == 401
    assert problem_code(answer) == "invalid_token"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.fixture
async def rotated(
    identity_settings: IdentitySettings, tmp_path: Path
) -> AsyncIterator[tuple[Identity, KeyRing]]:
    """The service after a key rotation: a new signing key, the old one kept."""
    old_file = tmp_path / "old.pem"
    old_file.write_bytes(generate_private_key_pem())
    new_file = tmp_path / "new.pem"
    new_file.write_bytes(generate_private_key_pem())
    settings = identity_settings.model_copy(
        update={
            "jwt_signing_key_file": new_file,
            "jwt_verification_key_files": [old_file],
        }
    )
    old_ring = KeyRing.load(None, old_file, [])
    async with running(settings) as service:
        yield service, old_ring


async def test_tokens_signed_with_a_retired_key_still_work_after_rotation(
    rotated: tuple[Identity, KeyRing],
) -> None:
    identity, old_ring = rotated
    user_id = await identity.register_verified("ada@example.com")
    old_tokens = AccessTokens(
        old_ring,
        issuer="authtrail-identity",
        audience="authtrail",
        ttl=timedelta(hours=24),
    )
    old_token = old_tokens.issue(
        UUID(user_id), "from-old-key", 0, datetime.now(UTC)
    ).token
    new_token = await identity.access_token("ada@example.com")

    jwks = (await identity.http.get("/.well-known/jwks.json")).json()

    assert len({k["kid"] for k in jwks["keys"]}) == 2
    assert jwt.get_unverified_header(new_token)["kid"] != old_ring.signing_kid
    for token in (old_token, new_token):
        assert (
            await identity.http.get("/v1/users/me", headers=bearer(token))
        ).status_code == 200


async def test_the_signing_key_is_generated_once_into_the_data_folder(
    identity: Identity,
) -> None:
    key_file = identity.settings.data_dir / "secrets" / "jwt-signing-key.pem"
    assert key_file.exists()
    assert key_file.stat().st_mode & 0o777 == 0o600
    ring = KeyRing.load(None, key_file, [])
    assert ring.signing_kid == identity.app.state.runtime.keys.signing_kid
