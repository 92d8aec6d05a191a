"""Exactly once per team and slot: local time across DST, grace, restarts, two schedulers, Slack errors."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from bot.deps import utc_now
from bot.jobs.posting import POSTING_LEASE, Pacer, Poster
from bot.jobs.scheduler import JOB_ID, LEASE_TTL, build_scheduler
from bot.store import digest as store
from bot.store.db import Database
from bot.store.tables.posts import PostKind, PostState
from tests.bot_harness import DESIGN_CHANNEL, WORKSPACE
from tests.jobs.conftest import SLOT, Harness


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_the_slot_fires_at_nine_in_berlin_across_the_dst_change(harness: Harness) -> None:
    runner = harness.runner()
    for now, expected in [
        (utc(2026, 10, 19, 6, 59), 0),  # 08:59 CEST
        (utc(2026, 10, 19, 7, 0), 1),  # 09:00 CEST
        (utc(2026, 10, 19, 7, 30), 1),
        (utc(2026, 10, 26, 7, 0), 1),  # 08:00 CET: the clocks went back on Sunday
        (utc(2026, 10, 26, 7, 59), 1),
        (utc(2026, 10, 26, 8, 0), 2),  # 09:00 CET
        (utc(2026, 10, 26, 9, 0), 2),
    ]:
        harness.clock.now = now
        runner.run_once()
        assert len(harness.digests()) == expected, now
    slots = [m["metadata"]["event_payload"]["slot"] for m in harness.digests()]
    assert slots == ["2026-10-19T07:00Z", "2026-10-26T08:00Z"]


def test_the_scheduler_job_runs_on_the_time_machine_clock(harness: Harness) -> None:
    runner = harness.runner(clock=utc_now)
    scheduler = build_scheduler(runner, interval_seconds=60)
    job = scheduler.get_job(JOB_ID)
    assert job.trigger.interval == timedelta(seconds=60)
    assert (job.coalesce, job.max_instances) == (True, 1)
    with time_machine.travel(utc(2026, 10, 26, 7, 59, 30), tick=False):
        job.func()
        assert harness.digests() == []
    with time_machine.travel(utc(2026, 10, 26, 8, 0, 30), tick=False):
        job.func()
        job.func()
    assert len(harness.digests()) == 1


def test_a_started_scheduler_runs_at_once_and_stops_cleanly(harness: Harness) -> None:
    harness.clock.now = SLOT + timedelta(minutes=1)
    runner = harness.runner(use_lease=True)
    ran = threading.Event()
    original = runner.run_once

    def run_and_signal() -> Any:
        try:
            return original()
        finally:
            ran.set()

    runner.run_once = run_and_signal  # type: ignore[method-assign]
    scheduler = build_scheduler(runner, interval_seconds=3600)
    scheduler.start()
    try:
        assert ran.wait(timeout=30), "the first run did not happen at start-up"
    finally:
        scheduler.shutdown(wait=True)
    assert len(harness.digests()) == 1


def test_a_missed_slot_within_grace_posts_once_even_across_restarts(harness: Harness) -> None:
    harness.clock.now = SLOT + timedelta(hours=5, minutes=59)
    harness.runner().run_once()
    harness.runner().run_once()  # a restarted process
    harness.clock.advance(minutes=30)
    harness.runner().run_once()
    assert len(harness.digests()) == 1
    [post] = harness.posts()
    assert (post.state, post.slot_key) == ("posted", "2026-11-30T08:00Z")


def test_a_slot_missed_beyond_grace_is_recorded_and_logged_not_posted(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.spend(10, key="before-the-slot", at=SLOT - timedelta(days=1))  # the team existed at the slot
    harness.clock.now = SLOT + timedelta(hours=6, minutes=1)
    with caplog.at_level(logging.WARNING, logger="bot.jobs.digest_posting"):
        report = harness.runner().run_once()
    assert harness.digests() == []
    assert [p.state for p in harness.posts()] == ["skipped_beyond_grace"]
    assert report is not None and [o.state for o in report.digests] == ["skipped_beyond_grace"]
    assert "skipped_beyond_grace" in caplog.text


def test_a_slot_from_before_the_teams_first_ledger_entry_is_not_a_missed_slot(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.clock.now = SLOT + timedelta(hours=7)  # a brand-new database, started after the slot's grace
    with caplog.at_level(logging.WARNING, logger="bot.jobs.digest_posting"):
        report = harness.runner().run_once()
    assert harness.digests() == []
    assert [p.state for p in harness.posts()] == ["skipped_before_start"]
    assert report is not None and [o.state for o in report.digests] == ["skipped_before_start"]
    assert "not posted" not in caplog.text


def test_the_grace_period_is_configurable(harness: Harness) -> None:
    harness.clock.now = SLOT + timedelta(hours=7)
    harness.runner(grace=timedelta(hours=8)).run_once()
    assert len(harness.digests()) == 1


def test_two_schedulers_on_one_database_post_once(harness: Harness) -> None:
    harness.clock.now = SLOT + timedelta(seconds=5)
    other_db = Database(harness.db.url)
    runners = [harness.runner(), harness.runner(db=other_db)]
    start = threading.Barrier(len(runners))
    errors: list[BaseException] = []

    def run(runner: Any) -> None:
        try:
            start.wait()
            runner.run_once()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(r,)) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    other_db.dispose()
    assert not errors
    assert len(harness.digests()) == 1
    assert len(harness.standin.calls_to("chat.postMessage")) == 1


def test_only_the_lease_holder_runs_the_schedule(harness: Harness) -> None:
    harness.clock.now = SLOT - timedelta(hours=1)
    first, second = harness.runner(use_lease=True), harness.runner(use_lease=True)
    assert first.run_once() is not None
    assert second.run_once() is None
    harness.clock.advance(seconds=LEASE_TTL.total_seconds() + 1)  # the first one stopped renewing
    assert second.run_once() is not None
    assert first.run_once() is None
    second.release_lease()
    assert first.run_once() is not None


def test_slack_refusing_the_digest_is_retried_by_a_later_run_within_grace(harness: Harness) -> None:
    harness.standin.fail_next("chat.postMessage", error="fatal_error", status=200)
    harness.runner().run_once()
    [post] = harness.posts()
    assert (post.state, post.error) == ("failed", "fatal_error")
    assert harness.digests() == []
    harness.runner().run_once()  # still in its back-off
    assert harness.digests() == []
    harness.clock.advance(minutes=2)
    harness.runner().run_once()
    assert len(harness.digests()) == 1
    [post] = harness.posts()
    assert (post.state, post.attempts) == ("posted", 2)


def test_a_failed_slot_past_its_grace_is_given_up_loudly(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    harness.standin.fail_next("chat.postMessage", error="not_in_channel", status=200)
    harness.runner().run_once()
    harness.clock.advance(hours=7)
    with caplog.at_level(logging.ERROR):
        harness.runner().run_once()
    assert [p.state for p in harness.posts()] == ["abandoned"]
    assert "past its grace period" in caplog.text


def test_a_429_is_waited_out_and_posted_once(harness: Harness) -> None:
    harness.standin.fail_next("chat.postMessage", retry_after=0)  # Slack says when; 0 keeps the test quick
    harness.runner().run_once()
    calls = harness.standin.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert len(harness.digests()) == 1


def test_a_crash_after_slack_accepted_the_digest_is_reconciled_not_reposted(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.spend(40, key="t1", at=SLOT - timedelta(days=1))
    original = Poster.update

    def crash_when_recording_posted(self: Poster, post: Any, now: datetime, **changes: Any) -> Any:
        if changes.get("state") == PostState.POSTED.value:
            raise SystemExit("killed between Slack's answer and the database write")
        return original(self, post, now, **changes)

    monkeypatch.setattr(Poster, "update", crash_when_recording_posted)
    with pytest.raises(SystemExit):
        harness.runner().run_once()
    monkeypatch.setattr(Poster, "update", original)
    [post] = harness.posts()
    assert post.state == "posting"
    assert len(harness.digests()) == 1

    harness.clock.advance(minutes=1)
    harness.runner().run_once()  # the restarted process
    [post] = harness.posts()
    [message] = harness.digests()
    assert (post.state, post.message_ts) == ("posted", message["ts"])
    assert len(harness.standin.calls_to("chat.postMessage")) == 1
    history = harness.standin.calls_to("conversations.history")
    assert history and history[0].args["include_all_metadata"] in (True, "1", "true")

    harness.clock.advance(seconds=POSTING_LEASE.total_seconds())  # its chart was never uploaded
    harness.runner().run_once()
    harness.runner().run_once()
    assert len(harness.standin.uploads) == 1
    assert harness.posts()[0].chart_state == "uploaded"


def test_a_post_whose_outcome_is_unknown_is_reposted_only_after_its_lease(harness: Harness) -> None:
    with harness.db.write() as session:  # a process died after marking "posting", before calling Slack
        store.insert_post(
            session,
            workspace_id=WORKSPACE,
            kind=PostKind.DIGEST,
            team="design",
            slot_key="2026-11-30T08:00Z",
            slot_at=SLOT,
            state=PostState.POSTING,
            owner="dead-process",
            channel_id=DESIGN_CHANNEL,
            now=SLOT,
        )
    harness.clock.now = SLOT + timedelta(minutes=1)
    harness.runner().run_once()
    assert harness.digests() == []  # it may still be on its way
    harness.clock.now = SLOT + POSTING_LEASE + timedelta(minutes=1)
    harness.runner().run_once()
    harness.runner().run_once()
    assert len(harness.digests()) == 1
    assert harness.posts()[0].state == "posted"


def test_a_schedule_moved_mid_week_does_not_post_twice_that_week(harness: Harness) -> None:
    harness.runner().run_once()
    assert len(harness.digests()) == 1
    moved = harness.config.teams["design"].model_copy(update={"digest": "mon 11:00"})
    harness.config = harness.config.model_copy(update={"teams": {"design": moved}})
    harness.clock.now = SLOT + timedelta(hours=2)
    harness.runner().run_once()
    assert len(harness.digests()) == 1
    assert [p.state for p in harness.posts()] == ["posted", "skipped_recent"]
    harness.clock.now = SLOT + timedelta(days=7, hours=2)
    harness.runner().run_once()
    assert len(harness.digests()) == 2


def test_messages_to_one_channel_are_paced_one_per_second(harness: Harness) -> None:
    harness.spend(40, key="t1", at=SLOT - timedelta(days=1))  # a week with spend: digest + chart
    harness.runner().run_once()
    assert harness.sleeps == [1.0]
    ticks = iter([0.0, 0.2, 5.0])
    sleeps: list[float] = []
    pacer = Pacer(sleep=sleeps.append, monotonic=lambda: next(ticks))
    pacer.wait("C1")
    pacer.wait("C1")
    pacer.wait("C2")
    assert sleeps == [pytest.approx(0.8)]


def test_unknown_users_and_utc_teams_still_get_a_digest(harness: Harness) -> None:
    harness.spend(40, member="U0NOBODY", key="t1", at=SLOT - timedelta(days=1))
    harness.runner().run_once()
    [message] = harness.digests()
    assert "<@U0NOBODY> 40" in str(message["blocks"])  # a mention Slack can show, not a raw id


def test_a_failed_chart_upload_is_retried_without_reposting_the_digest(harness: Harness) -> None:
    harness.spend(40, key="t1", at=SLOT - timedelta(days=1))
    harness.standin.fail_next("files.getUploadURLExternal", error="fatal_error", status=200)
    harness.runner().run_once()
    [post] = harness.posts()
    assert (post.state, post.chart_state) == ("posted", "failed")
    harness.clock.advance(minutes=2)
    harness.runner().run_once()
    harness.runner().run_once()
    assert len(harness.digests()) == 1
    assert len(harness.standin.uploads) == 1
    assert harness.posts()[0].chart_state == "uploaded"
    assert harness.standin.calls_to("conversations.replies")  # it looked in the thread first


def test_each_run_also_expires_approval_requests_that_timed_out(harness: Harness) -> None:
    from bot.domain.commands import TaskRequest
    from bot.domain.task_commands import RunCommand
    from bot.services.approvals import decisions as approvals
    from bot.services.tasks import run_and_done as tasks
    from bot.services.workspace.members import Member

    alice = Member("U0ALICE", "design", "creator", False)
    command = RunCommand(TaskRequest(tool="image", quality="ultra", variants=4), note="old request")
    started = tasks.start_task(
        harness.db,
        harness.config,
        workspace_id=WORKSPACE,
        member=alice,
        command=command,
        now=SLOT - timedelta(hours=30),
    )
    assert started.approval is not None and started.approval.status == "pending"
    harness.runner().run_once()
    approval, task = approvals.get_approval(harness.db, started.approval.id, workspace_id=WORKSPACE)
    assert approval.status == "expired" and task.held == 0


def test_a_digest_slack_posted_but_answered_500_for_is_found_not_posted_again(harness: Harness) -> None:
    """A 5xx is no proof the message is absent: the retry looks in the channel first (issue 25, item 10)."""
    harness.spend(40, key="t1", at=SLOT - timedelta(days=1))
    harness.standin.fail_next("chat.postMessage", error="internal_error", status=500, after_effect=True)
    harness.runner().run_once()
    [post] = harness.posts()
    assert post.state == "failed" and "outcome unknown" in (post.error or "")
    assert len(harness.digests()) == 1  # Slack did post it
    harness.clock.advance(minutes=2)  # past the back-off
    harness.runner().run_once()
    [post] = harness.posts()
    [message] = harness.digests()
    assert (post.state, post.message_ts) == ("posted", message["ts"])
    assert len(harness.standin.calls_to("chat.postMessage")) == 1


def test_a_digest_whose_answer_came_after_its_lease_leaves_one_message(harness: Harness) -> None:
    """Slack answered only after another process had taken the row over and posted: ours is withdrawn."""
    harness.spend(40, key="t1", at=SLOT - timedelta(days=1))
    slow, other = harness.runner(), harness.runner()
    post_message = slow.client.chat_postMessage

    def answered_late(**kwargs: Any) -> Any:
        harness.clock.advance(seconds=POSTING_LEASE.total_seconds() + 60)  # Retry-After waits added up
        other.run_once()  # finds nothing in the channel yet, takes the row over and posts
        return post_message(**kwargs)

    slow.client.chat_postMessage = answered_late  # type: ignore[method-assign]
    slow.run_once()
    [post] = harness.posts()
    [message] = harness.digests()
    assert (post.state, post.message_ts) == ("posted", message["ts"])
    assert len(harness.standin.calls_to("chat.postMessage")) == 2
    assert len(harness.standin.calls_to("chat.delete")) == 1


def test_two_processes_whose_slots_differ_by_a_minute_post_one_digest(harness: Harness) -> None:
    """The web process still reads "mon 09:00", the clock already "mon 09:01": one digest that week.

    The later slot is claimed first; the earlier one, claimed a moment after, must see it (issue 25, item 11).
    """
    harness.spend(40, key="t1", at=SLOT - timedelta(days=1))
    teams = dict(harness.config.teams)
    teams["design"] = teams["design"].model_copy(update={"digest": "mon 09:01"})
    moved = harness.config.model_copy(update={"teams": teams})
    harness.clock.now = SLOT + timedelta(minutes=1, seconds=10)
    harness.runner(config=moved).run_once()  # the clock process: its 09:01 slot
    harness.runner().run_once()  # the web process: its 09:00 slot, a few seconds later
    assert len(harness.digests()) == 1
    assert sorted(p.state for p in harness.posts()) == ["posted", "skipped_recent"]
