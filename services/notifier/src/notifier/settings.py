"""Settings of the notifier service, read once at start-up."""

from pydantic import AliasChoices, Field

from shared.settings import CommonSettings


class NotifierSettings(CommonSettings):
    database_url: str = Field(
        default="sqlite+aiosqlite:///data/notifier.db",
        validation_alias=AliasChoices("NOTIFIER_DATABASE_URL"),
    )
    port: int = Field(default=8002, validation_alias=AliasChoices("NOTIFIER_PORT"))
