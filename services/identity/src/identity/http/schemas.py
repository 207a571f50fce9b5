"""Request and response bodies of the Identity API, with their examples."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from identity.domain.emails import MAX_INPUT_CHARS

MAX_PASSWORD_INPUT = 1024
"""A hard bound on any password field; the policy itself allows 8 to 256."""
MAX_TOKEN_INPUT = 512

Email = Field(min_length=1, max_length=MAX_INPUT_CHARS, examples=["ada@example.com"])


class Registration(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"email": "ada@example.com", "password": "correct horse battery"}
            ]
        }
    )

    email: str = Email
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_INPUT)


class Credentials(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"email": "ada@example.com", "password": "correct horse battery"}
            ]
        }
    )

    email: str = Email
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_INPUT)


class AddressOnly(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": "ada@example.com"}]}
    )

    email: str = Email


class TokenOnly(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"token": "q5E0a1Bq3Zr9Jm0xJvN4bq5C1s2d3f4g5h6j7k8l9m0"}]
        }
    )

    token: str = Field(min_length=1, max_length=MAX_TOKEN_INPUT)


class PasswordReset(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "token": "q5E0a1Bq3Zr9Jm0xJvN4bq5C1s2d3f4g5h6j7k8l9m0",
                    "new_password": "another long passphrase",
                }
            ]
        }
    )

    token: str = Field(min_length=1, max_length=MAX_TOKEN_INPUT)
    new_password: str = Field(min_length=1, max_length=MAX_PASSWORD_INPUT)


class PasswordChange(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "current_password": "correct horse battery",
                    "new_password": "another long passphrase",
                }
            ]
        }
    )

    current_password: str = Field(min_length=1, max_length=MAX_PASSWORD_INPUT)
    new_password: str = Field(min_length=1, max_length=MAX_PASSWORD_INPUT)


class VerificationPending(BaseModel):
    status: Literal["verification_pending"] = "verification_pending"


class Accepted(BaseModel):
    status: Literal["accepted"] = "accepted"


class Verified(BaseModel):
    status: Literal["verified"] = "verified"
    user_id: UUID


class TokenIssued(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJFZERTQSIs...",
                    "token_type": "bearer",
                    "expires_in": 86400,
                }
            ]
        }
    )

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class Me(BaseModel):
    user_id: UUID
    email: str
    email_verified: bool
    created_at: datetime


class PasswordWasReset(BaseModel):
    status: Literal["password_reset"] = "password_reset"


class PasswordWasChanged(BaseModel):
    status: Literal["password_changed"] = "password_changed"
