"""What every listener and ``/credits`` answer gets: one request's context, built once by the middleware."""

from __future__ import annotations

from dataclasses import dataclass, replace
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
class RequestContext:
    """One request: the process's deps, the Web API client, the effective config, who, where, when, which delivery.

    Built once per request by the middleware (``middleware.load_config``); Bolt passes it to any listener
    with an ``rc`` argument, and every ``/credits`` answer takes it. ``text`` is the slash command's text
    ("" for clicks and forms); ``for_command`` gives the same request as if ``/credits <text>`` were typed.
    ``now`` is the request's one moment: listeners and answers read it, never the clock.
    """

    deps: Deps
    client: WebClient
    config: CreditsConfig
    workspace_id: str
    user_id: str
    channel_id: str
    now: datetime
    request_key: str
    text: str = ""

    def for_command(self, text: str, *, channel_id: str | None = None) -> RequestContext:
        """This request as the ``/credits <text>`` it stands for (in ``channel_id`` if given)."""
        return replace(self, text=text, channel_id=self.channel_id if channel_id is None else channel_id)

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
