"""What every ``/credits`` subcommand handler gets: who, where, when, and the effective config."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from bot.credits_file import ADMIN_ROLE, CreditsConfig
from bot.deps import Deps
from bot.domain.errors import UserFacingError
from bot.services.workspace.members import Member, bot_admins, resolve_member


@dataclass(frozen=True)
class Reply:
    """An ephemeral answer: fallback text and blocks."""

    text: str
    blocks: list[Block]


@dataclass(frozen=True)
class CommandContext:
    """One slash command being answered."""

    deps: Deps
    client: WebClient
    config: CreditsConfig
    workspace_id: str
    user_id: str
    channel_id: str
    text: str
    request_key: str
    now: datetime

    def actor(self) -> Member:
        """The requester for admin commands: an admin needs no team of their own to act."""
        try:
            return self.member()
        except UserFacingError:
            is_admin = self.user_id in bot_admins(self.config) or self.deps.workspace_admins.is_admin(
                self.client, self.workspace_id, self.user_id
            )
            if not is_admin:
                raise
            return Member(
                user_id=self.user_id, team=next(iter(self.config.teams), ""), role=ADMIN_ROLE, is_bot_admin=True
            )

    def member(self, team: str | None = None, user_id: str | None = None) -> Member:
        """The requester (or another user) as a member of the chosen team, with their role."""
        return resolve_member(
            self.config,
            user_id=user_id or self.user_id,
            channel_id=self.channel_id,
            team=team,
            is_workspace_admin=lambda user: self.deps.workspace_admins.is_admin(self.client, self.workspace_id, user),
        )


@dataclass(frozen=True)
class RequestContext:
    """One request's dependencies and parties, built once by the middleware (``middleware.load_config``).

    Bolt passes it to any listener with an ``rc`` argument, so a listener names one argument instead of
    seven (``deps``, ``config``, ``workspace_id``, ``user_id``, ``channel_id``, ``now``, ``request_key``).
    """

    deps: Deps
    config: CreditsConfig
    workspace_id: str
    user_id: str
    channel_id: str
    now: datetime
    request_key: str

    def command(self, client: WebClient, text: str = "", *, channel_id: str | None = None) -> CommandContext:
        """A CommandContext for this request, as if ``/credits <text>`` were typed (in ``channel_id`` if given)."""
        channel = self.channel_id if channel_id is None else channel_id
        return CommandContext(
            self.deps, client, self.config, self.workspace_id, self.user_id, channel, text, self.request_key, self.now
        )
