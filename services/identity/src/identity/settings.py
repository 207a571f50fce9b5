"""Settings of the identity service, read once at start-up."""

from pydantic import AliasChoices, Field

from shared.settings import CommonSettings


class IdentitySettings(CommonSettings):
    database_url: str = Field(
        default="sqlite+aiosqlite:///data/identity.db",
        validation_alias=AliasChoices("IDENTITY_DATABASE_URL"),
    )
    port: int = Field(default=8001, validation_alias=AliasChoices("IDENTITY_PORT"))
