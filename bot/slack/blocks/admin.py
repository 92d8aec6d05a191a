"""What ``/credits admin`` answers: each change confirmed in words, and refusals that name people."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from slack_sdk.models.blocks import Block

from bot.domain.errors import UserFacingError
from bot.services.admin.changes import (
    NO_ROLE,
    Adjusted,
    AdminChange,
    ChannelTakenError,
    LimitsSet,
    NotInTeamError,
    RoleSet,
    TeamRoster,
    TeamSet,
    ToppedUp,
)
from bot.services.workspace.access import AdminOnlyError
from bot.slack.blocks.format import credits, plural
from bot.slack.blocks.tasks import notice_blocks

P = ParamSpec("P")
R = TypeVar("R")


def _limit(value: int | None) -> str:
    return "no limit" if value is None else credits(value)


def change_text(change: AdminChange) -> str:
    """One line saying what the admin changed, mentioning the member or channel it is about."""
    if isinstance(change, RoleSet):
        if not change.changed:
            return f"<@{change.member}> already is *{change.role}* in team {change.team}; nothing changed."
        if change.role == NO_ROLE:
            return f"<@{change.member}> is no longer in team {change.team}."
        return f"<@{change.member}> is now *{change.role}* in team {change.team}."
    if isinstance(change, LimitsSet):
        if not change.changed:
            return (
                f"Role *{change.role}* already has per task {_limit(change.task_limit)}, per week "
                f"{_limit(change.weekly_limit)}; nothing changed."
            )
        return f"Role *{change.role}*: per task {_limit(change.task_limit)}, per week {_limit(change.weekly_limit)}."
    if isinstance(change, ToppedUp):
        return (
            f"Added {plural(change.credits, 'extra credit')} to team {change.team}: "
            f"{credits(change.balance.extra)} extra, {credits(change.balance.available)} available."
        )
    if isinstance(change, Adjusted):
        state = (
            f"overdrawn by {credits(change.balance.overdrawn_by)}"
            if change.balance.overdrawn_by
            else f"{credits(change.balance.available)} available"
        )
        return f"Adjusted team {change.team} by {change.credits:+,} credits ({change.reason}): {state}."
    assert isinstance(change, TeamSet)
    if not change.changed:
        return (
            f"Team {change.team} already has channel <#{change.channel}>, plan {change.plan}, timezone "
            f"{change.timezone}; nothing changed."
        )
    verb = "created" if change.created else "updated"
    return f"Team {change.team} {verb}: channel <#{change.channel}>, plan {change.plan}, timezone {change.timezone}."


SOURCE_WORDS = {"file": "credits file", "command": "set by command"}


def roster_text(roster: TeamRoster) -> str:
    """Notification fallback text."""
    return f"Team {roster.team}: {len(roster.members)} members"


def roster_blocks(roster: TeamRoster) -> list[Block]:
    """One line per member: mention, role, and where the role comes from."""
    lines = [f"• <@{m.user_id}>: *{m.role}* ({SOURCE_WORDS[m.source]})" for m in roster.members]
    if not lines:
        lines = ["No members yet: `/credits admin role @member <role> " + roster.team + "` adds one."]
    removed = [f"Removed by command: {', '.join(f'<@{user}>' for user in roster.removed)}"] if roster.removed else []
    footer = "A role set by command outranks the credits file; `/credits admin role @member none` removes one."
    return notice_blocks("\n".join([f"*Team {roster.team}*", *lines, *removed, footer]))


def recorded_blocks(text: str) -> list[Block]:
    """The confirmation of an admin change, which is always in the audit trail."""
    return notice_blocks(f":white_check_mark: {text} (recorded in the audit trail)")


def unchanged_blocks(text: str) -> list[Block]:
    """The answer to an admin change that changes nothing: no audit entry, said so."""
    return notice_blocks(f":information_source: {text}")


def refusal_text(error: AdminOnlyError | ChannelTakenError | NotInTeamError) -> str:
    """Why an admin command was refused, mentioning the admins to ask, the member or the channel in use."""
    if isinstance(error, AdminOnlyError):
        admins = ", ".join(f"<@{user}>" for user in error.admins) or "a Slack workspace admin"
        return f"Only admins can {error.what}. Ask {admins}."
    if isinstance(error, NotInTeamError):
        return f"<@{error.member}> is not a member of team {error.team}; nothing to remove."
    return f"<#{error.channel}> is already team {error.owner}'s channel; one team per channel."


def refusals_in_words(answer: Callable[P, R]) -> Callable[P, R]:
    """Wrap an admin command's answer so a refusal reaches the user worded with its mentions."""

    @functools.wraps(answer)
    def worded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return answer(*args, **kwargs)
        except (AdminOnlyError, ChannelTakenError, NotInTeamError) as refused:
            raise UserFacingError(refusal_text(refused)) from None

    return worded
