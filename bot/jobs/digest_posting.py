"""The digest job: post every team's digest that is due, exactly once, and resume what a crash left unfinished.

A slot is due from its start until ``grace`` later. The first run that sees it claims it in the
database (``scheduled_post``, unique per workspace, team and slot) and posts; every other run, in this
process or another, sees the claim and leaves it. A slot first seen past its grace is recorded as
``skipped_beyond_grace`` and logged, never silently dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from slack_sdk import WebClient

from bot.credits_file import CreditsConfig
from bot.domain.digest import SlotAction, latest_slot, slot_action, slot_key
from bot.jobs.posting import Chart, Message, Poster, Rebuild, resume_post
from bot.services.digests.weekly_digest import DigestReport, compute_digest
from bot.services.workspace.effective_config import EffectiveConfigs
from bot.slack.blocks.digest import chart_title, describe_schedule, digest_blocks, digest_members, digest_text
from bot.slack.outbound.names import member_names
from bot.store import digest as store
from bot.store import ledger_reads
from bot.store.db import Database
from bot.store.tables.posts import PostKind, PostState, ScheduledPost

logger = logging.getLogger(__name__)

DEFAULT_GRACE = timedelta(hours=6)
RESUME_HORIZON = timedelta(days=2)


@dataclass(frozen=True)
class Workspace:
    """The workspace the bot token belongs to, from ``auth.test``."""

    id: str
    url: str | None

    @classmethod
    def of(cls, client: WebClient) -> Workspace:
        """Ask Slack which workspace the token is for."""
        answer = client.auth_test()
        return cls(str(answer["team_id"]), answer.get("url"))


@dataclass(frozen=True)
class Outcome:
    """What a run did with one team's digest."""

    team: str
    slot_key: str
    state: str
    message_ts: str | None = None


@dataclass
class DigestJob:
    """Everything a digest run needs; one per process, reused by every run."""

    db: Database
    configs: EffectiveConfigs
    client: WebClient
    poster: Poster
    workspace: Workspace
    grace: timedelta = DEFAULT_GRACE

    def effective(self) -> CreditsConfig:
        """The credits file with admin changes (moved slots, new teams)."""
        with self.db.read() as session:
            return self.configs.get(session, self.workspace.id)

    def message(self, config: CreditsConfig, team: str, end: datetime, now: datetime, scheduled: bool) -> Message:
        """The digest of the seven days up to ``end``, with its chart unless the week was quiet."""
        workspace = self.workspace
        report = compute_digest(
            self.db, config, workspace_id=workspace.id, team=team, end=end, now=now, workspace_url=workspace.url
        )
        names = member_names(self.client, digest_members(report))
        chart = None if report.figures.quiet else _chart(report, sorted(config.pricing.tools))
        when = describe_schedule(config.teams[team].digest_schedule) if scheduled else None
        blocks = digest_blocks(report, names=names, schedule=when, chart_in_thread=chart is not None, preview=False)
        return Message(digest_text(report), blocks, chart)

    def rebuild(self, config: CreditsConfig, clock: Callable[[], datetime]) -> Rebuild:
        """Recompute a claimed row's message (for a retry) from its slot."""

        def build(post: ScheduledPost) -> tuple[str, Message] | None:
            team = config.teams.get(post.team)
            if team is None:
                return None
            return team.channel, self.message(config, post.team, post.slot_at, clock(), post.scheduled)

        return build

    def resume_unfinished(self, config: CreditsConfig, clock: Callable[[], datetime]) -> None:
        """Reconcile, retry or give up the digest rows earlier runs left unfinished."""
        with self.db.read() as session:
            posts = store.unfinished_posts(session, workspace_id=self.workspace.id, since=clock() - RESUME_HORIZON)
        build = self.rebuild(config, clock)
        for post in posts:
            if post.kind == PostKind.DIGEST:
                self._guarded(
                    post.team, partial(resume_post, self.poster, post, clock, grace=self.grace, rebuild=build)
                )

    def post_due(self, clock: Callable[[], datetime]) -> list[Outcome]:
        """One scheduler run: resume unfinished rows, then claim and post every slot that is due and unclaimed."""
        config = self.effective()
        self.resume_unfinished(config, clock)
        at = clock()
        slots = {name: latest_slot(team.digest_schedule, team.zone, at) for name, team in config.teams.items()}
        with self.db.read() as session:
            existing = store.posts_for_slots(
                session, workspace_id=self.workspace.id, kind=PostKind.DIGEST, slot_keys=map(slot_key, slots.values())
            )
        outcomes = []
        for team, slot in slots.items():
            if (team, slot_key(slot)) in existing:
                continue
            outcome = self._guarded(team, partial(self._claim_and_post, config, team, slot, clock))
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    def _claim_and_post(
        self, config: CreditsConfig, team: str, slot: datetime, clock: Callable[[], datetime]
    ) -> Outcome:
        key, at = slot_key(slot), clock()
        channel = config.teams[team].channel
        with self.db.write() as session:
            store.lock_team_digests(session, workspace_id=self.workspace.id, team=team)
            last = store.nearest_live_slot(session, workspace_id=self.workspace.id, team=team, around=slot)
            # no entry yet: the team starts now, so every earlier slot is from before it
            first = ledger_reads.first_entry_at(session, workspace_id=self.workspace.id, team=team) or at
            action = slot_action(slot, at, self.grace, last, first)
            state = PostState.CLAIMED if action is SlotAction.POST else PostState(action.value)
            post = store.insert_post(
                session,
                workspace_id=self.workspace.id,
                kind=PostKind.DIGEST,
                team=team,
                slot_key=key,
                slot_at=slot,
                state=state,
                owner=self.poster.owner if state is PostState.CLAIMED else None,
                channel_id=channel,
                now=at,
            )
        if post is None:
            return Outcome(team, key, "claimed elsewhere")
        if state is PostState.SKIPPED_BEFORE_START:
            logger.info("digest of team %s for %s: the slot is before the team's first ledger entry", team, key)
            return Outcome(team, key, state.value)
        if state is not PostState.CLAIMED:
            logger.warning("digest of team %s for %s not posted: %s (now %s)", team, key, state.value, at.isoformat())
            return Outcome(team, key, state.value)
        return self._post(config, post, clock)

    def _post(self, config: CreditsConfig, post: ScheduledPost, clock: Callable[[], datetime]) -> Outcome:
        try:
            message = self.message(config, post.team, post.slot_at, clock(), post.scheduled)
        except Exception as exc:
            self.poster.update(post, clock(), state=PostState.FAILED.value, error=f"computing the digest: {exc}"[:500])
            raise
        state = self.poster.deliver(post, config.teams[post.team].channel, message, clock)
        with self.db.read() as session:
            row = store.post_by_id(session, post_id=post.id) if post.id is not None else None
        return Outcome(post.team, post.slot_key, state.value, row.message_ts if row else None)

    def post_now(self, team: str, clock: Callable[[], datetime]) -> Outcome:
        """``python -m bot digest --team <name> --now``: a digest of the last seven days, posted at once."""
        config = self.effective()
        if team not in config.teams:
            raise KeyError(team)
        at = clock()
        key = "now:" + at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with self.db.write() as session:
            post = store.insert_post(
                session,
                workspace_id=self.workspace.id,
                kind=PostKind.DIGEST,
                team=team,
                slot_key=key,
                slot_at=at,
                state=PostState.CLAIMED,
                owner=self.poster.owner,
                channel_id=config.teams[team].channel,
                now=at,
                scheduled=False,
            )
        assert post is not None
        return self._post(config, post, clock)

    def _guarded(self, team: str, run: Callable[[], Outcome | PostState | None]) -> Outcome | None:
        """One team's failure is logged (and recorded in its row) without stopping the other teams."""
        try:
            result = run()
        except Exception:
            logger.exception("digest run failed for team %s", team)
            return Outcome(team, "", "error")
        return result if isinstance(result, Outcome) else None


def _chart(report: DigestReport, tools: list[str]) -> Chart:
    from bot.charts import spend_chart_png  # matplotlib loads only when a chart is drawn

    title = chart_title(report)
    last = report.figures.window.last_chart_day
    png = spend_chart_png(report.figures.series, title=title, tools=tools)
    return Chart(png, f"spend-{report.team}-{last}.png", title)
