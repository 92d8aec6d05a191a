"""Settings of the scheduled jobs, read from the environment like ``bot.settings`` and checked the same way."""

from __future__ import annotations

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.settings import SettingsError


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
