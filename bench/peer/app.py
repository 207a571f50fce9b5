"""A minimal fastapi-users application: the peer identity is measured against.

Runs in bench/.venv-peer only (see bench/peer_env.py) and imports nothing of
authtrail. Configured like identity where a setting exists on both sides:
argon2id m=19456 KiB, t=2, p=1 (pwdlib over argon2-cffi, as fastapi-users
ships it); JWT signed with EdDSA (Ed25519), 24 h; the same SQLite file
settings (WAL, synchronous=NORMAL, busy timeout) or the same PostgreSQL
server; login only for verified users. Everything else is the library's
default, as a team adopting it would run it.

Environment: PEER_DATABASE_URL, PEER_SEED_EMAILS (comma-separated addresses
created verified at start-up, all with PEER_SEED_PASSWORD).
"""

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, FastAPI
from fastapi_users import BaseUserManager, FastAPIUsers, UUIDIDMixin
from fastapi_users.authentication import (
    AuthenticationBackend,
    BearerTransport,
    JWTStrategy,
)
from fastapi_users.db import SQLAlchemyBaseUserTableUUID, SQLAlchemyUserDatabase
from fastapi_users.password import PasswordHelper
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

DATABASE_URL = os.environ["PEER_DATABASE_URL"]
SEED_EMAILS = [e for e in os.environ.get("PEER_SEED_EMAILS", "").split(",") if e]
SEED_PASSWORD = os.environ.get("PEER_SEED_PASSWORD", "")

password_helper = PasswordHelper(
    PasswordHash((Argon2Hasher(memory_cost=19_456, time_cost=2, parallelism=1),))
)
signing_key = Ed25519PrivateKey.generate()
PRIVATE_PEM = signing_key.private_bytes(
    serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption(),
).decode()
PUBLIC_PEM = (
    signing_key.public_key()
    .public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    .decode()
)


class Base(DeclarativeBase):
    pass


class User(SQLAlchemyBaseUserTableUUID, Base):
    pass


engine = create_async_engine(DATABASE_URL)
if engine.dialect.name == "sqlite":

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


sessions = async_sessionmaker(engine, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


async def get_user_db(
    session: Annotated[AsyncSession, Depends(get_session)],
) -> AsyncIterator[SQLAlchemyUserDatabase[User, uuid.UUID]]:
    yield SQLAlchemyUserDatabase(session, User)


class UserManager(UUIDIDMixin, BaseUserManager[User, uuid.UUID]):
    reset_password_token_secret = PRIVATE_PEM
    verification_token_secret = PRIVATE_PEM


async def get_user_manager(
    user_db: Annotated[SQLAlchemyUserDatabase[User, uuid.UUID], Depends(get_user_db)],
) -> AsyncIterator[UserManager]:
    yield UserManager(user_db, password_helper)


def get_strategy() -> JWTStrategy[User, uuid.UUID]:
    return JWTStrategy(
        secret=PRIVATE_PEM,
        lifetime_seconds=86_400,
        algorithm="EdDSA",
        public_key=PUBLIC_PEM,
    )


backend = AuthenticationBackend(
    name="jwt",
    transport=BearerTransport(tokenUrl="auth/jwt/login"),
    get_strategy=get_strategy,
)
users = FastAPIUsers[User, uuid.UUID](get_user_manager, [backend])


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
        if SEED_EMAILS:
            hashed = password_helper.hash(SEED_PASSWORD)
            await conn.execute(
                insert(User),
                [
                    {
                        "id": uuid.uuid4(),
                        "email": email,
                        "hashed_password": hashed,
                        "is_active": True,
                        "is_superuser": False,
                        "is_verified": True,
                    }
                    for email in SEED_EMAILS
                ],
            )
    yield
    await engine.dispose()


app = FastAPI(title="fastapi-users peer", lifespan=lifespan)
app.include_router(
    users.get_auth_router(backend, requires_verification=True),
    prefix="/auth/jwt",
)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
