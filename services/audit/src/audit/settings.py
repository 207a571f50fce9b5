"""Settings of the audit service, read once at start-up."""

from pydantic import AliasChoices, Field

from shared.settings import CommonSettings


class AuditSettings(CommonSettings):
    database_url: str = Field(
        default="sqlite+aiosqlite:///data/audit.db",
        validation_alias=AliasChoices("AUDIT_DATABASE_URL"),
    )
    port: int = Field(default=8003, validation_alias=AliasChoices("AUDIT_PORT"))
