"""The digest's figures against a ledger built by hand, the message it makes, and its chart in Slack."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from PIL import Image

from bot.charts import PNG_SIGNATURE
from bot.deps import Deps
from bot.devtools.render import mrkdwn_to_text, render_blocks
from bot.domain import ledger as rules
from bot.domain.admin_commands import AdminDigestCommand
from bot.domain.calendar import local_date
from bot.domain.digest import latest_slot
from bot.domain.errors import UserFacingError
from bot.domain.ledger import EntryKind
from bot.services.balances.team_balances import open_team_cycle
from bot.services.digests.weekly_digest import compute_digest, preview_digest, set_digest_schedule
from bot.services.workspace.effective_config import effective_config
from bot.services.workspace.members import Member
from bot.slack.blocks.digest import digest_blocks, digest_text, schedule_moved_text
from bot.store import ledger_writes
from bot.store.tables.tasks import Approval, Task
from tests.bot_harness import DESIGN_CHANNEL, WORKSPACE, check_blocks
from tests.jobs.conftest import SLOT, Harness

WORKSPACE_URL = "https://standin.slack.com/"
APPROVAL_TS = "1764061200.000100"


def add_task(
    harness: Harness, number: int, requester: str, tool: str, quality: str, cost: int, finished: datetime, **extra: int
) -> int:
    """A finished task and its capture in the ledger, as the tasks service leaves them."""
    with harness.db.write() as session:
        task = Task(
            workspace_id=WORKSPACE,
            team="design",
            number=number,
            requester=requester,
            tool=tool,
            quality=quality,
            variants=extra.get("variants", 1),
            duration_seconds=extra.get("duration"),
            retries_used=extra.get("retries", 0),
            kept=extra.get("kept"),
            quoted_cost=cost,
            held=0,
            status="done",
            actual_cost=cost,
            created_at=finished - timedelta(hours=1),
            finished_at=finished,
        )
        session.add(task)
        session.flush()
        task_id = int(task.id or 0)
    harness.spend(cost, member=requester, tool=tool, key=f"task-{number}", at=finished)
    return task_id


def add_approval(
    harness: Harness, task_id: int, status: str, asked: datetime, decided: datetime | None, **extra: str
) -> None:
    with harness.db.write() as session:
        session.add(
            Approval(
                workspace_id=WORKSPACE,
                team=extra.get("team", "design"),
                task_id=task_id,
                requester="U0ALICE",
                amount=100,
                reasons="over the per-task limit",
                status=status,
                channel_id=extra.get("channel"),
                message_ts=extra.get("ts"),
                decided_at=decided,
                expires_at=asked + timedelta(hours=24),
                created_at=asked,
            )
        )


def refund(harness: Harness, amount: int, at: datetime) -> None:
    with harness.db.write() as session:
        row = open_team_cycle(session, harness.config, workspace_id=WORKSPACE, team="design", now=at)
        ledger_writes.append_entry(
            session,
            row=row,
            kind=EntryKind.REFUND,
            delta=rules.refund(amount),
            idempotency_key=f"refund:{at.isoformat()}",
            now=at,
            local_day=local_date(at, harness.config.teams["design"].zone),
            member="U0ALICE",
            tool="image",
        )


@pytest.fixture
def busy_week(harness: Harness) -> Harness:
    """Two weeks of spending around the slot of Mon 30 Nov 09:00 Berlin (08:00 UTC)."""
    day = timedelta(days=1)
    harness.spend(100, key="last-week", at=SLOT - 10 * day)  # the week before: 100
    add_task(harness, 1, "U0ALICE", "image", "high", 64, SLOT - 6 * day, variants=4, retries=1, kept=2)
    video = add_task(harness, 2, "U0BOB", "video", "high", 120, SLOT - 5 * day, duration=10)
    add_task(harness, 3, "U0CAROL", "upscale", "standard", 8, SLOT - 4 * day, variants=4, kept=4)
    refund(harness, 10, SLOT - 3 * day)
    add_task(harness, 4, "U0ALICE", "image", "ultra", 500, SLOT + timedelta(hours=1), variants=2)  # after the slot
    add_approval(harness, video, "approved", SLOT - 5 * day, SLOT - 5 * day, channel=DESIGN_CHANNEL, ts=APPROVAL_TS)
    add_approval(harness, 90, "denied", SLOT - 4 * day, SLOT - 4 * day)
    add_approval(harness, 91, "pending", SLOT - 2 * day, None)
    add_approval(harness, 92, "expired", SLOT - 10 * day, SLOT - 6 * day)  # asked the week before
    add_approval(harness, 93, "approved", SLOT - 2 * day, SLOT - 2 * day, team="video-team")
    return harness


def test_the_figures_match_the_ledger_built_by_hand(busy_week: Harness) -> None:
    harness = busy_week
    report = compute_digest(
        harness.db,
        harness.config,
        workspace_id=WORKSPACE,
        team="design",
        end=SLOT,
        now=SLOT + timedelta(hours=2),
        workspace_url=WORKSPACE_URL,
    )
    f = report.figures
    assert (f.spend.total, f.spend.previous_total) == (64 + 120 + 8 - 10, 100)
    assert f.spend.change_percent == 82
    assert [(s.name, s.amount) for s in f.spend.by_tool] == [("video", 120), ("image", 54), ("upscale", 8)]
    assert [(s.name, s.amount) for s in f.spend.top_members] == [("U0BOB", 120), ("U0ALICE", 54), ("U0CAROL", 8)]
    assert f.retries.cost == 32  # image high x4: 32 for the attempt, 32 for its retry
    assert f.retries.share_percent == pytest.approx(32 * 100 / 182)
    versions = {v.tool: v for v in f.versions}
    assert (versions["image"].generated, versions["image"].kept, versions["image"].cost_per_kept) == (8, 2, 32)
    assert (versions["upscale"].generated, versions["upscale"].kept, versions["upscale"].cost_per_kept) == (4, 4, 2)
    assert versions["video"].unknown_tasks == 1
    a = f.approvals  # asked in the week: the video (approved), 90 (denied), 91 (pending); 92 was asked before it
    assert (a.asked, a.approved, a.denied, a.expired, a.withdrawn, a.pending) == (3, 1, 1, 0, 0, 1)
    assert [(t.number, t.cost) for t in f.largest] == [(2, 120), (1, 64), (3, 8)]
    assert f.largest[0].approval_link == f"{WORKSPACE_URL}archives/{DESIGN_CHANNEL}/p{APPROVAL_TS.replace('.', '')}"
    assert f.largest[1].approval_link is None
    # 28 days to the slot's day (Monday), drawn from the daily rollup: whole days, so the 500 at 10:00 is in
    assert f.series.total == 100 + 64 + 120 + 8 - 10 + 500
    assert f.series.days[-1].isoformat() == "2026-11-30"
    # The balance is today's: it includes the 500 spent after the slot.
    assert report.balance.spent == 100 + 64 + 120 + 8 - 10 + 500
    assert report.balance.available == 5000 + 500 - report.balance.spent
    assert report.forecast.burn_per_day == 26
    assert report.renews_on.isoformat() == "2026-12-01"


def test_the_digest_message_reads_on_a_phone_and_fits_slacks_limits(busy_week: Harness) -> None:
    report = compute_digest(
        busy_week.db, busy_week.config, workspace_id=WORKSPACE, team="design", end=SLOT, now=SLOT, workspace_url=None
    )
    names = {"U0ALICE": "alice", "U0BOB": "bob", "U0CAROL": "carol"}
    blocks = [b.to_dict() for b in digest_blocks(report, names=names, schedule="Monday 09:00", chart_in_thread=True)]
    assert check_blocks(blocks) == []
    text = render_blocks(blocks)
    assert "Mon 23 Nov – Mon 30 Nov: 182 credits spent" in text
    assert "▲ 82% from 100 credits the week before" in text
    assert "By tool: video 120 · image 54 · upscale 8" in text
    assert "By member: bob 120 · alice 54 · carol 8" in text
    assert "Cost of retries: 32 credits, 18% of the spend" in text
    assert (
        "Successful versions: image 2 of 8, 32 credits each · upscale 4 of 4, 2 credits each (not recorded for 1 task)"
        in text
    )
    assert "Approvals asked this week: 3 (1 approved · 1 denied · 0 expired · 0 withdrawn · 1 pending)" in text
    assert "1. #2 video · high · 10 s: 120 credits, bob" in text
    assert "Every Monday 09:00 (Europe/Berlin)" in text
    assert "<@" not in text  # names, not pings
    assert digest_text(report) == "Weekly spend for design: 182 credits (+82%)"
    assert max(len(line) for line in text.splitlines()) < 140


def test_the_posted_digest_carries_its_chart_as_a_real_png_in_its_thread(busy_week: Harness) -> None:
    busy_week.clock.now = SLOT + timedelta(minutes=1)
    busy_week.runner().run_once()
    [digest] = busy_week.digests()
    assert digest["metadata"]["event_payload"]["slot"] == "2026-11-30T08:00Z"
    assert "approval thread" in str(digest["blocks"])  # the workspace URL came from auth.test
    [complete] = busy_week.standin.calls_to("files.completeUploadExternal")
    assert (complete.args["channel_id"], complete.args["thread_ts"]) == (DESIGN_CHANNEL, digest["ts"])
    [png] = busy_week.standin.uploads.values()
    assert png.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and image.size[0] >= 900 and image.size[0] > image.size[1]
    [reply] = [m for m in busy_week.standin.messages(DESIGN_CHANNEL) if m.get("files")]
    assert reply["thread_ts"] == digest["ts"]
    [post] = busy_week.posts()
    assert (post.state, post.chart_state, post.chart_file_id) == ("posted", "uploaded", reply["files"][0]["id"])


def test_a_team_with_no_spend_gets_a_short_quiet_week_digest(harness: Harness) -> None:
    harness.runner().run_once()
    [digest] = harness.digests()
    text = render_blocks(digest["blocks"])
    assert "Quiet week: no credits spent Mon 23 Nov – Mon 30 Nov." in text
    assert "Available: 5,500 credits" in text
    assert len(digest["blocks"]) <= 4
    assert harness.standin.calls_to("files.getUploadURLExternal") == []


def test_the_preview_covers_the_last_seven_days(busy_week: Harness) -> None:
    report = preview_digest(
        busy_week.db, busy_week.config, workspace_id=WORKSPACE, team="design", now=SLOT - timedelta(days=2)
    )
    assert report.figures.window.end == SLOT - timedelta(days=2)
    assert report.figures.spend.total == 64 + 120 + 8 - 10
    text = render_blocks([b.to_dict() for b in digest_blocks(report)])
    assert "Preview of the last 7 days" in text and "@U0BOB 120" in text


def test_an_admin_moves_the_digest_slot(harness: Harness) -> None:
    carol = Member(user_id="U0CAROL", team="design", role="admin", is_bot_admin=True)
    command = AdminDigestCommand(team="design", day="tue", time="14:30")
    schedule, upcoming = set_digest_schedule(
        harness.db, harness.config, workspace_id=WORKSPACE, admin=carol, command=command, now=SLOT
    )
    assert str(schedule) == "tue 14:30"
    assert upcoming.isoformat() == "2026-12-01T13:30:00+00:00"
    answer = schedule_moved_text("design", schedule, upcoming, "Europe/Berlin")
    # The next slot is a date token each reader sees in their own timezone; its fallback is the team's.
    assert f"<!date^{int(upcoming.timestamp())}^" in answer
    assert mrkdwn_to_text(answer) == (
        "Team design's digest now goes out every Tuesday 14:30 (Europe/Berlin); the next one on Tue 1 Dec 14:30."
    )
    with harness.db.read() as session:
        team = effective_config(session, harness.config, WORKSPACE).teams["design"]
    assert team.digest == "tue 14:30"
    assert latest_slot(team.digest_schedule, team.zone, upcoming) == upcoming
    alice = Member(user_id="U0ALICE", team="design", role="creator", is_bot_admin=False)
    with pytest.raises(UserFacingError, match="Only admins"):
        set_digest_schedule(harness.db, harness.config, workspace_id=WORKSPACE, admin=alice, command=command, now=SLOT)
    bad = AdminDigestCommand(team="design", day="tue", time="25:00")
    with pytest.raises(UserFacingError, match="no such time"):
        set_digest_schedule(harness.db, harness.config, workspace_id=WORKSPACE, admin=carol, command=bad, now=SLOT)


def test_listeners_and_jobs_see_an_admin_change_at_once(harness: Harness) -> None:
    deps = Deps(config=harness.config, db=harness.db, clock=harness.clock)
    job = harness.runner().digest_job()
    cached = deps.effective_config(WORKSPACE)
    assert deps.effective_config(WORKSPACE) is cached  # no admin change: the cached merge is reused
    assert cached.teams["design"].digest == job.effective().teams["design"].digest == "mon 09:00"
    carol = Member(user_id="U0CAROL", team="design", role="admin", is_bot_admin=True)
    command = AdminDigestCommand(team="design", day="tue", time="14:30")
    set_digest_schedule(harness.db, harness.config, workspace_id=WORKSPACE, admin=carol, command=command, now=SLOT)
    assert deps.effective_config(WORKSPACE).teams["design"].digest == "tue 14:30"
    assert job.effective().teams["design"].digest == "tue 14:30"
    with harness.db.read() as session:
        assert effective_config(session, harness.config, WORKSPACE).teams["design"].digest == "tue 14:30"


def test_the_job_follows_a_moved_slot(harness: Harness) -> None:
    carol = Member(user_id="U0CAROL", team="design", role="admin", is_bot_admin=True)
    command = AdminDigestCommand(team="design", day="tue", time="14:30")
    set_digest_schedule(harness.db, harness.config, workspace_id=WORKSPACE, admin=carol, command=command, now=SLOT)
    harness.runner().run_once()
    assert harness.digests() == []  # Monday 09:00 is no longer the slot
    harness.clock.now = datetime.fromisoformat("2026-12-01T13:30:00+00:00")
    harness.runner().run_once()
    assert len(harness.digests()) == 1
    assert "Every Tuesday 14:30" in render_blocks(harness.digests()[0]["blocks"])


def test_each_tool_keeps_its_colour_whichever_tools_spent() -> None:
    from bot.charts import PALETTE, tool_colours

    tools = ["image", "upscale", "video", "voice"]
    one_week = tool_colours(tools, ["voice", "image"])
    next_week = tool_colours(tools, ["upscale", "video", "voice"])
    assert one_week["voice"] == next_week["voice"] == PALETTE[3]
    assert one_week["image"] == PALETTE[0]
    assert tool_colours(tools, ["retired"])["retired"] == PALETTE[4]  # a tool no longer priced: after the rest


def test_the_chart_ends_on_the_slots_day_unless_the_slot_is_midnight() -> None:
    from zoneinfo import ZoneInfo

    from bot.domain.digest import digest_window

    berlin = ZoneInfo("Europe/Berlin")
    friday = datetime(2026, 11, 13, 16, 0, tzinfo=berlin)
    assert digest_window(friday, berlin).last_chart_day.isoformat() == "2026-11-13"
    assert digest_window(datetime(2026, 11, 14, tzinfo=berlin), berlin).last_chart_day.isoformat() == "2026-11-13"


def test_a_late_digest_names_the_moment_of_its_balance_beside_the_week(busy_week: Harness) -> None:
    """Its totals stop at the slot, its balance is current: each moment is said (issue 24, item 7)."""

    def shown(now: datetime) -> str:
        report = compute_digest(
            busy_week.db, busy_week.config, workspace_id=WORKSPACE, team="design", end=SLOT, now=now, workspace_url=None
        )
        return render_blocks([b.to_dict() for b in digest_blocks(report, names={}, schedule="Monday 09:00")])

    assert "as of" not in shown(SLOT)  # on time: one moment
    late = shown(SLOT + timedelta(hours=2))
    assert "Balance as of Mon 30 Nov 11:00 (the week's figures above stop at Mon 30 Nov 09:00):" in late
