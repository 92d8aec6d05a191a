"""Who is asking: their team and role, worked out from the config, the channel and Slack's admin flags."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.credits_file import ADMIN_ROLE, CreditsConfig
from bot.domain.errors import UserFacingError, unknown_name

WorkspaceAdminCheck = Callable[[str], bool]


@dataclass(frozen=True)
class Member:
    """A requester acting for one team, with the role that sets their limits."""

    user_id: str
    team: str
    role: str
    is_bot_admin: bool


def bot_admins(config: CreditsConfig) -> list[str]:
    """Users the config makes admins of the bot, in a stable order."""
    return sorted({user for team in config.teams.values() for user, role in team.members.items() if role == ADMIN_ROLE})


class NotAMemberError(UserFacingError):
    """The user is in no team (``team`` None) or not in the chosen one; ``admins`` are ids who can add them.

    ``message`` names no one; the Slack edge renders the admins as mentions.
    """

    def __init__(self, team: str | None, admins: list[str]) -> None:
        self.team, self.admins = team, tuple(admins)
        super().__init__(self.explain(", ".join(f"@{user}" for user in self.admins)))

    def explain(self, named_admins: str) -> str:
        """The sentence, with ``named_admins`` naming the bot's admins (empty: none in the file)."""
        who = f"an admin ({named_admins}) or a Slack workspace admin" if named_admins else "a Slack workspace admin"
        if self.team is None:
            return f"You are not in any team yet. Ask {who} to add you with `/credits admin role @you <role> <team>`."
        return (
            f"You are not a member of team `{self.team}`. Ask {who} to add you with "
            f"`/credits admin role @you <role> {self.team}`."
        )


def resolve_member(
    config: CreditsConfig,
    *,
    user_id: str,
    channel_id: str,
    team: str | None,
    is_workspace_admin: WorkspaceAdminCheck,
) -> Member:
    """Pick the team a command is for and the requester's role in it, or explain what to do."""
    my_teams = [name for name, cfg in config.teams.items() if user_id in cfg.members]
    config_admin = user_id in bot_admins(config)
    if not config.teams:
        raise UserFacingError(
            "No teams are set up yet: an admin adds one with `/credits admin team <name> #channel plan=<plan>` "
            "(or under `teams:` in the credits file)."
        )
    if team is not None and team not in config.teams:
        raise unknown_name("team", team, config.teams)

    chosen = team
    if chosen is None:
        channel_team = config.team_by_channel.get(channel_id)
        if len(my_teams) == 1:
            chosen = my_teams[0]
        elif channel_team and (channel_team in my_teams or not my_teams):
            chosen = channel_team
        elif len(my_teams) > 1:
            raise UserFacingError(
                f"You are in several teams ({', '.join(my_teams)}); add "
                f"`team=<name>`, e.g. `team={my_teams[0]}`, or use the team's channel."
            )
        elif len(config.teams) == 1:
            chosen = next(iter(config.teams))

    is_admin = config_admin or is_workspace_admin(user_id)
    if not my_teams and not is_admin:
        raise NotAMemberError(None, bot_admins(config))
    if chosen is None:
        raise UserFacingError(f"Which team? Add `team=<name>` (teams: {', '.join(config.teams)}).")
    role = config.teams[chosen].members.get(user_id)
    if is_admin:
        role = ADMIN_ROLE
    if role is None:
        raise NotAMemberError(chosen, bot_admins(config))
    return Member(user_id=user_id, team=chosen, role=role, is_bot_admin=is_admin)
