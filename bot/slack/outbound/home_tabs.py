"""Publishing a member's Home tab, the team's chart (drawn once an hour, uploaded once), and refreshes.

Shared by the ``app_home_opened`` listener and every listener whose outcome changes what someone's
Home tab shows (a decision, a charge, a top-up): those call ``refresh_homes``, which waits a moment
(``Deps.home_refresh``, a debouncer) and publishes each concerned member's tab once, however many
changes came in meanwhile. Code with no Bolt context (the scheduled jobs, the charge feed, the CSV
import) reaches the same function with ``refresh_team_homes``: a ``Deps`` and a ``WebClient`` are all
it needs; a short-lived process flushes ``deps.home_refresh`` before it exits.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.credits_file import CreditsConfig
from bot.deps import Deps
from bot.domain.limits import can_approve
from bot.services.approvals import nudges as approval_nudges
from bot.services.balances.team_balances import balance_report
from bot.services.digests.weekly_digest import claim_home_chart, home_chart_uploaded, spend_series
from bot.services.quoting.quotes import member_limits
from bot.services.tasks.run_and_done import my_open_tasks
from bot.services.workspace.members import Member, bot_admins
from bot.slack.blocks.format import day
from bot.slack.blocks.home import Decidable, TeamHome, home_view

logger = logging.getLogger(__name__)


def my_teams(config: CreditsConfig, user_id: str) -> list[Member]:
    """Every team the user is a member of, with their role in it."""
    admins = bot_admins(config)
    return [
        Member(user_id=user_id, team=name, role=team.members[user_id], is_bot_admin=user_id in admins)
        for name, team in config.teams.items()
        if user_id in team.members
    ]


def team_chart(
    deps: Deps, client: WebClient, config: CreditsConfig, workspace_id: str, team: str, now: datetime
) -> str | None:
    """The file id of the team's spend chart: drawn and uploaded by whoever claims the hour.

    The claim (``scheduled_post``, kind ``home_chart``, one per team and hour) makes it one upload per
    team per hour across processes; views reference the file by id (an image block's ``slack_file``).
    """
    claim = claim_home_chart(deps.db, workspace_id=workspace_id, team=team, now=now)
    if claim.claim_id is None:
        return claim.file_id
    from bot.charts import spend_chart_png  # matplotlib loads only when a chart is drawn

    series = spend_series(deps.db, config, workspace_id=workspace_id, team=team, now=now)
    title = f"{team}: credits spent per day, 4 weeks to {day(series.days[-1])}" if series.days else team
    file_id: str | None = None
    try:
        answer = client.files_upload_v2(
            content=spend_chart_png(series, title=title), filename=f"home-{team}.png", title=title, alt_txt=title
        )
        file_id = str((answer.get("files") or [answer.get("file")])[0]["id"])
    except (SlackApiError, KeyError, IndexError, TypeError) as exc:
        logger.warning("home chart upload for team %s failed: %s", team, exc)
    home_chart_uploaded(deps.db, claim, file_id=file_id, now=now)
    return file_id or claim.file_id


def build_home(
    deps: Deps, client: WebClient, config: CreditsConfig, workspace_id: str, user_id: str, now: datetime
) -> View:
    """The member's Home tab as it is now."""
    teams = []
    for member in my_teams(config, user_id):
        zone = config.teams[member.team].zone
        teams.append(
            TeamHome(
                team=member.team,
                zone=zone,
                limits=member_limits(deps.db, config, workspace_id=workspace_id, member=member, now=now)[0],
                open_tasks=my_open_tasks(deps.db, workspace_id=workspace_id, user_id=user_id, teams=[member.team]),
                balance=balance_report(deps.db, config, workspace_id=workspace_id, team=member.team, now=now),
                chart_file_id=team_chart(deps, client, config, workspace_id, member.team, now),
            )
        )
    is_admin = user_id in bot_admins(config) or deps.workspace_admins.is_admin(client, workspace_id, user_id)
    approver = is_admin or any(
        can_approve(m.role, config.roles[m.role], 1) for m in my_teams(config, user_id) if m.role in config.roles
    )
    requests = None
    if approver:
        found = approval_nudges.pending_for(
            deps.db, config, workspace_id=workspace_id, user_id=user_id, is_workspace_admin=is_admin, now=now
        )
        requests = [
            Decidable(a, t, thread_link(client, a.channel_id, a.message_ts), config.teams[a.team].zone)
            for a, t in found
        ]
    problem = None if teams else "You are in no team yet: an admin can add you with `/credits admin role`."
    return home_view(teams, requests, problem=problem)


def thread_link(client: WebClient, channel: str | None, ts: str | None) -> str | None:
    """A permalink to a request's thread, or None when Slack will not give one."""
    if not channel or not ts:
        return None
    try:
        return str(client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
    except SlackApiError:
        return None


def publish_home(deps: Deps, client: WebClient, config: CreditsConfig, workspace_id: str, user_id: str) -> None:
    """Build and publish the member's Home tab (``views.publish``).

    A member id Slack does not know (``user_not_found`` from ``users.info`` or ``views.publish``: an id
    given to ``admin role`` that is not in the workspace, an account since removed) is one WARNING line,
    once, and skipped from then on in this process.
    """
    unknown = deps.workspace_admins
    if unknown.is_unknown(workspace_id, user_id):
        return
    view = build_home(deps, client, config, workspace_id, user_id, deps.clock())  # may learn it from users.info
    if not unknown.is_unknown(workspace_id, user_id):
        try:
            client.views_publish(user_id=user_id, view=view)
            return
        except SlackApiError as exc:
            if exc.response.get("error") != "user_not_found":
                raise
            unknown.mark_unknown(workspace_id, user_id)
    logger.warning(
        "Home tab of %s not published: Slack answers user_not_found (not in the workspace?); skipping them", user_id
    )


def concerned(config: CreditsConfig, team: str, *also: str) -> set[str]:
    """Who sees a change to ``team``: its members (their Team section, To decide) and anyone named."""
    members = set(config.teams[team].members) if team in config.teams else set()
    return members | {user for user in also if user}


def refresh_homes(
    deps: Deps, client: WebClient, config: CreditsConfig, workspace_id: str, users: Iterable[str]
) -> None:
    """Republish these members' Home tabs shortly, once each however many changes come in meanwhile."""
    for user in users:
        deps.home_refresh.request(
            (workspace_id, user),
            lambda user=user: publish_home(deps, client, config, workspace_id, user),  # type: ignore[misc]
        )


def refresh_team_homes(
    deps: Deps, client: WebClient, config: CreditsConfig, workspace_id: str, changed: Mapping[str, Iterable[str]]
) -> None:
    """For each team that changed (team -> the people a change named), refresh the tabs of those concerned.

    What the services return (who and which team changed) goes straight in: jobs and the charge feed
    call this with their own ``Deps`` and client, listeners call ``refresh_homes`` directly.
    """
    for team, people in changed.items():
        refresh_homes(deps, client, config, workspace_id, concerned(config, team, *people))
