"""Steps every flow shares: reading input, loading a user."""

from uuid import UUID

from identity.application.errors import InvalidInput
from identity.application.ports import EventStore
from identity.application.streams import user_stream_id
from identity.domain.emails import EmailAddress, InvalidEmail, normalise_email
from identity.domain.errors import CorruptStream
from identity.domain.passwords import describe, password_problems
from identity.domain.user import User


def parse_email(raw: str, field: str = "email") -> EmailAddress:
    try:
        return normalise_email(raw)
    except InvalidEmail as exc:
        raise InvalidInput(
            [{"loc": ["body", field], "msg": str(exc), "type": "email"}]
        ) from exc


def check_password_policy(
    password: str, email: EmailAddress, field: str = "password"
) -> None:
    problems = password_problems(password, email)
    if problems:
        raise InvalidInput(
            [
                {
                    "loc": ["body", field],
                    "msg": f"password {describe(p)}",
                    "type": p.value,
                }
                for p in problems
            ]
        )


async def load_user(store: EventStore, user_id: UUID) -> User:
    user = User.fold(await store.load(user_stream_id(user_id)))
    if user is None:
        raise CorruptStream(f"no events for user {user_id}")
    return user


def address_of(user: User) -> EmailAddress:
    return EmailAddress(user.email, user.canonical_email)
