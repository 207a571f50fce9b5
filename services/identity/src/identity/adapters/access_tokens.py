"""Access tokens: JWTs signed with Ed25519 (EdDSA), keys published as a JWK set.

The key ring signs with one key and accepts every key it holds, so a key can
be rotated: publish the new key, sign with it, keep the old one for
verification until the last token it signed has expired.
"""

import base64
import hashlib
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from opentelemetry import trace

from identity.application.errors import InvalidAccessToken
from identity.application.ports import AccessClaims, AccessToken
from identity.domain.errors import IdentityError
from identity.instruments import token_issue_duration
from shared.secret_files import load_or_create

tracer = trace.get_tracer(__name__)

ALGORITHM = "EdDSA"
REQUIRED_CLAIMS = ("iss", "aud", "sub", "iat", "exp", "jti", "gen")
MAX_TOKEN_CHARS = 4096


class UnusableKey(IdentityError):
    """A configured key that is not an Ed25519 key."""


def generate_private_key_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def key_id(public_key: Ed25519PublicKey) -> str:
    """The RFC 7638 thumbprint of the key: stable, derived, never configured."""
    x = _b64(
        public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
    )
    canonical = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":")
    )
    return _b64(hashlib.sha256(canonical.encode()).digest())


class KeyRing:
    def __init__(
        self, signing_key: Ed25519PrivateKey, others: list[Ed25519PublicKey]
    ) -> None:
        self._signing_key = signing_key
        self.signing_kid = key_id(signing_key.public_key())
        self._public = {key_id(k): k for k in [signing_key.public_key(), *others]}

    @classmethod
    def load(
        cls,
        signing_pem: bytes | None,
        signing_file: Path,
        verification_files: list[Path],
    ) -> "KeyRing":
        """The configured key, or the data folder's, generated on first start."""
        pem = signing_pem or load_or_create(signing_file, generate_private_key_pem)
        signing = _private_key(pem)
        others = [_public_key(path.read_bytes()) for path in verification_files]
        return cls(signing, others)

    def signing_key(self) -> Ed25519PrivateKey:
        return self._signing_key

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        return self._public.get(kid)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        keys = []
        for kid, key in self._public.items():
            raw = key.public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
            keys.append(
                {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": _b64(raw),
                    "kid": kid,
                    "alg": ALGORITHM,
                    "use": "sig",
                }
            )
        return {"keys": keys}


class AccessTokens:
    def __init__(
        self, keys: KeyRing, *, issuer: str, audience: str, ttl: timedelta
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self.ttl = ttl

    def issue(
        self, user_id: UUID, token_id: str, generation: int, now: datetime
    ) -> AccessToken:
        with tracer.start_as_current_span("auth.token_issue"):
            started = time.perf_counter()
            try:
                return self._issue(user_id, token_id, generation, now)
            finally:
                token_issue_duration.record(time.perf_counter() - started)

    def _issue(
        self, user_id: UUID, token_id: str, generation: int, now: datetime
    ) -> AccessToken:
        issued_at = now.replace(microsecond=0)
        claims = AccessClaims(
            user_id, token_id, generation, issued_at, issued_at + self.ttl
        )
        payload = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(user_id),
            "iat": int(issued_at.timestamp()),
            "exp": int(claims.expires_at.timestamp()),
            "jti": token_id,
            "gen": generation,
        }
        token = jwt.encode(
            payload,
            self._keys.signing_key(),
            algorithm=ALGORITHM,
            headers={"kid": self._keys.signing_kid},
        )
        return AccessToken(token, claims)

    def decode(self, token: str) -> AccessClaims:
        """The claims of a token we signed that is still within its lifetime."""
        if len(token) > MAX_TOKEN_CHARS:
            raise InvalidAccessToken("token too long")
        try:
            header = jwt.get_unverified_header(token)
            key = self._keys.public_key(str(header.get("kid", "")))
            if key is None or header.get("alg") != ALGORITHM:
                raise InvalidAccessToken("unknown key or algorithm")
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": list(REQUIRED_CLAIMS)},
            )
            return AccessClaims(
                user_id=UUID(str(claims["sub"])),
                token_id=_bounded(claims["jti"]),
                generation=int(claims["gen"]),
                issued_at=datetime.fromtimestamp(int(claims["iat"]), UTC),
                expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            )
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
            raise InvalidAccessToken(type(exc).__name__) from exc


def _bounded(value: object) -> str:
    text = str(value)
    if not 0 < len(text) <= 64:
        raise ValueError("jti length")
    return text


def _private_key(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise UnusableKey("the JWT signing key must be an Ed25519 private key")
    return key


def _public_key(pem: bytes) -> Ed25519PublicKey:
    if b"PRIVATE KEY" in pem:
        return _private_key(pem).public_key()
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise UnusableKey("a JWT verification key must be an Ed25519 key")
    return key


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
