"""Settings from the environment, checked once in the entry point.

A missing or malformed setting is one line naming the variable (and exit status 2), never a traceback.
With no Slack credentials at all, ``python -m bot`` runs the local console instead of connecting.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///keter-credits.db"


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the environment variable."""


class RunMode(StrEnum):
    """How the bot talks to Slack."""

    CONSOLE = "console"
    SOCKET = "socket"
    HTTP = "http"


class Settings(BaseSettings):
    """Every knob, read from environment variables of the same name (upper case)."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = SLACK_API_URL
    port: int = Field(default=3000, ge=1, le=65535)
    database_url: str = DEFAULT_DATABASE_URL
    credits_config: Path | None = None
    web_workers: int = Field(default=2, ge=1, le=64)
    web_threads: int = Field(default=16, ge=1, le=256)
    listener_threads: int = Field(default=64, ge=1, le=1024)
    log_level: str = "INFO"
    keter_webhook_secret: SecretStr | None = None  # whsec_…: Keter Labs' charge feed; unset: its path is a 404

    @field_validator("slack_bot_token", "slack_signing_secret", "slack_app_token", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("keter_webhook_secret", mode="before")
    @classmethod
    def _webhook_secret(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, str):
            import base64
            import binascii

            if not value.startswith("whsec_"):
                raise ValueError("KETER_WEBHOOK_SECRET: must be the whsec_<base64> secret Keter Labs shows")
            try:
                if not base64.b64decode(value.removeprefix("whsec_") + "==", validate=False):
                    raise ValueError("empty")
            except (binascii.Error, ValueError):
                raise ValueError("KETER_WEBHOOK_SECRET: the part after whsec_ is not base64") from None
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL like {SLACK_API_URL}")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgres://", "postgresql")):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return level

    @model_validator(mode="after")
    def _tokens_fit_together(self) -> Settings:
        bot, secret, app = self.slack_bot_token, self.slack_signing_secret, self.slack_app_token
        if bot and not bot.get_secret_value().startswith("xoxb-"):
            raise ValueError("SLACK_BOT_TOKEN: must be a bot token starting with xoxb-")
        if app and not app.get_secret_value().startswith("xapp-"):
            raise ValueError("SLACK_APP_TOKEN: must be an app-level token starting with xapp-")
        if (secret or app) and not bot:
            raise ValueError("SLACK_BOT_TOKEN: is not set (it is needed with SLACK_SIGNING_SECRET/SLACK_APP_TOKEN)")
        return self

    @property
    def mode(self) -> RunMode:
        """Console without credentials, Socket Mode with an app token, else HTTP."""
        if self.slack_bot_token is None:
            return RunMode.CONSOLE
        return RunMode.SOCKET if self.slack_app_token else RunMode.HTTP


def load_settings(*, receives_requests: bool = True) -> Settings:
    """Read the environment; raise SettingsError with one line naming the bad variable.

    ``receives_requests`` False (``clock``, ``digest``, ``db``): nothing arrives over HTTP, so no
    signing secret is needed.
    """
    try:
        settings = Settings()
    except ValidationError as exc:
        item = exc.errors()[0]
        message = item["msg"].removeprefix("Value error, ")
        if ": " in message and message.split(":")[0].isupper():
            raise SettingsError(message) from None
        name = "_".join(str(part) for part in item["loc"]).upper() or "settings"
        raise SettingsError(f"{name}: {message}") from None
    if receives_requests and settings.mode is RunMode.HTTP and settings.slack_signing_secret is None:
        raise SettingsError("SLACK_SIGNING_SECRET: is not set (HTTP mode needs it; or set SLACK_APP_TOKEN)")
    return settings


class JobSettings(BaseSettings):
    """``DIGEST_GRACE_HOURS``, ``SCHEDULER_IN_WEB``, ``SCHEDULER_INTERVAL_SECONDS``."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    digest_grace_hours: float = Field(default=6, gt=0, le=72)
    scheduler_in_web: bool = True
    scheduler_interval_seconds: int = Field(default=60, ge=10, le=3600)


def load_job_settings() -> JobSettings:
    """Read the environment; raise SettingsError with one line naming the bad variable."""
    try:
        return JobSettings()
    except ValidationError as exc:
        item = exc.errors()[0]
        name = "_".join(str(part) for part in item["loc"]).upper()
        raise SettingsError(f"{name}: {item['msg']}") from None
