"""Forged and misused bearer tokens on GET /v1/users/me: every one is a 401.

The attacker knows the published key set, holds a real token of their own
and the verification and reset tokens mailed to them; they do not hold the
signing key. Tokens signed with the service's own key but breaking one rule
(no ``exp``, another audience or issuer, expired) stand for a bug elsewhere
that would mint them: they must be refused all the same.
"""

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.events import EventType
from tests.identity.conftest import Identity, bearer, problem_code


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _json_part(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value).encode())


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    _, payload, signature = token.split(".")
    padded = payload + "=" * (-len(payload) % 4)
    return (
        jwt.get_unverified_header(token),
        json.loads(base64.urlsafe_b64decode(padded)),
        signature,
    )


def _hs256(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """HMAC-signed by hand: PyJWT rightly refuses a public key as an HMAC secret."""
    signing_input = f"{_json_part({**header, 'alg': 'HS256'})}.{_json_part(claims)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


async def test_every_forged_or_misused_token_is_refused(identity: Identity) -> None:
    victim = await identity.register_verified("victim@example.com")
    await identity.register_verified("mallory@example.com")
    own = await identity.access_token("mallory@example.com")
    assert (await identity.http.get("/v1/users/me", headers=bearer(own))).json()[
        "email"
    ] == "mallory@example.com"
    await identity.register("pending@example.com")
    verification = await identity.token_from(EventType.REGISTRATION_SUCCESS)
    await identity.http.post(
        "/v1/password/forgot", json={"email": "mallory@example.com"}
    )
    reset = await identity.token_from(EventType.PASSWORD_RESET_REQUESTED)

    header, claims, signature = _parts(own)
    ring = identity.app.state.runtime.keys
    public = ring.signing_key().public_key()
    raw_public = public.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    pem_public = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    jwk_x = (await identity.http.get("/.well-known/jwks.json")).json()["keys"][0]["x"]
    now = int(datetime.now(UTC).timestamp())
    as_victim = {**claims, "sub": victim}
    attacker_key = Ed25519PrivateKey.generate()

    def signed_by_us(**changes: Any) -> str:
        minted = {**claims, **changes}
        minted = {k: v for k, v in minted.items() if v is not None}
        return jwt.encode(
            minted,
            ring.signing_key(),
            algorithm="EdDSA",
            headers={"kid": header["kid"]},
        )

    attacks = {
        "alg none": f"{_json_part({**header, 'alg': 'none'})}.{_json_part(as_victim)}.",
        "alg none, signature kept": (
            f"{_json_part({**header, 'alg': 'none'})}.{_json_part(as_victim)}"
            f".{signature}"
        ),
        "HS256 keyed with the raw public key": _hs256(header, as_victim, raw_public),
        "HS256 keyed with the public key PEM": _hs256(header, as_victim, pem_public),
        "HS256 keyed with the JWK x": _hs256(header, as_victim, jwk_x.encode()),
        "tampered payload (another sub)": (
            f"{own.split('.')[0]}.{_json_part(as_victim)}.{signature}"
        ),
        "tampered payload (later exp)": (
            f"{own.split('.')[0]}.{_json_part({**claims, 'exp': now + 10**8})}"
            f".{signature}"
        ),
        "signature of another key, our kid": jwt.encode(
            as_victim, attacker_key, algorithm="EdDSA", headers={"kid": header["kid"]}
        ),
        "embedded jwk header": jwt.encode(
            as_victim,
            attacker_key,
            algorithm="EdDSA",
            headers={
                "kid": header["kid"],
                "jwk": {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": _b64(
                        attacker_key.public_key().public_bytes(
                            serialization.Encoding.Raw, serialization.PublicFormat.Raw
                        )
                    ),
                },
            },
        ),
        "kid path traversal": jwt.encode(
            as_victim, attacker_key, algorithm="EdDSA", headers={"kid": "../../x"}
        ),
        "missing exp": signed_by_us(exp=None),
        "wrong aud": signed_by_us(aud="another-service"),
        "wrong iss": signed_by_us(iss="https://evil.example"),
        "expired": signed_by_us(iat=now - 90_000, exp=now - 3_600),
        "verification token as bearer": verification,
        "reset token as bearer": reset,
        "empty": "",
        "just dots": "..",
    }

    answers = {
        name: await identity.http.get("/v1/users/me", headers=bearer(token))
        for name, token in attacks.items()
    }

    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(
        attacks, 401
    )
    for answer in answers.values():
        assert problem_code(answer) == "invalid_token"
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert "victim" not in answer.text
    # The misused mail tokens were not burnt by the attempt: they still work.
    verified = await identity.http.post(
        "/v1/users/verification", json={"token": verification}
    )
    assert verified.status_code == 200
