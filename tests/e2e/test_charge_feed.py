"""``POST /keter/charges`` over real HTTP: Standard Webhooks signatures, redeliveries, bad bodies, teams.

Deliveries are signed with the ``standardwebhooks`` package itself (the sender's side), with the real
clock, since the verifier checks the timestamp against it.
"""

from __future__ import annotations

import base64
import io
import json
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from pydantic import SecretStr
from sqlmodel import select
from standardwebhooks.webhooks import Webhook

from bot.credits_file import CreditsConfig
from bot.devtools.http_server import BackgroundServer
from bot.devtools.slack_standin import SlackStandIn
from bot.domain.commands import TaskRequest
from bot.domain.keter_charges import CSV_COLUMNS
from bot.domain.task_commands import DoneCommand, RunCommand
from bot.feed.csv_import import EXIT_CONFLICTS, import_charges_file
from bot.feed.webhook import FeedEndpoint
from bot.services.approvals import decisions as approvals
from bot.services.tasks import run_and_done as tasks
from bot.services.workspace.members import Member
from bot.settings import Settings
from bot.store import ledger_checks, ledger_reads
from bot.store.db import Database
from bot.store.tables.keter import KeterCharge
from bot.store.tables.ledger import LedgerEntry
from bot.web import FEED_PATH, SlackWsgiApp
from bot.wiring import build_process
from tests.bot_harness import WORKSPACE, app_deps, build_app
from tests.conftest import Clock
from tests.e2e.conftest import stop_in_background

SECRET = "whsec_" + base64.b64encode(b"keter-labs-test-secret-0123456789").decode()


class Feed:
    """The bot on a real port with the feed switched on, and a sender that signs like Keter Labs."""

    def __init__(self, server: BackgroundServer, db: Database) -> None:
        self.server, self.db = server, db
        self.sender = Webhook(SECRET)
        self.http = requests.Session()

    def post(
        self,
        payload: Any,
        *,
        webhook_id: str | None = None,
        timestamp: float | None = None,
        signature: str | None = None,
        raw: bytes | None = None,
    ) -> requests.Response:
        body = raw if raw is not None else json.dumps(payload).encode()
        msg_id = webhook_id or f"msg_{secrets.token_hex(6)}"
        at = datetime.fromtimestamp(timestamp if timestamp is not None else time.time(), UTC)
        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signature or self.sender.sign(msg_id, at, body.decode()),
            "content-type": "application/json",
        }
        return self.http.post(self.server.url + FEED_PATH, data=body, headers=headers, timeout=10)

    def entries(self) -> list[LedgerEntry]:
        with self.db.read() as session:
            return list(session.exec(select(LedgerEntry).where(LedgerEntry.kind == "charge")).all())

    def charges(self) -> int:
        with self.db.read() as session:
            return len(session.exec(select(KeterCharge)).all())


@pytest.fixture
def feed(standin: SlackStandIn, database: Database, config: CreditsConfig, clock: Clock) -> Iterator[Feed]:
    standin.add_user("U0ERIN", name="erin", email="erin@studio.example")
    app, signing_secret = build_app(standin, database, config, clock)
    endpoint = FeedEndpoint(secret=SECRET, deps=app_deps(app), client=app.client)
    server = BackgroundServer(SlackWsgiApp(app, signing_secret, feed=endpoint)).start()
    yield Feed(server, database)
    stop_in_background(server)
    with database.read() as session:
        assert ledger_checks.check_running_balances(session) == []


def created(*charges: dict[str, Any]) -> dict[str, Any]:
    return {"type": "charges.created", "data": {"charges": list(charges)}}


def a_charge(charge_id: str = "ch_8f2k", credits: int = 32, **extra: Any) -> dict[str, Any]:
    return {
        "id": charge_id,
        "occurred_at": "2026-11-24T09:05:00Z",
        "team": "design",
        "user_email": "erin@studio.example",
        "tool": "image",
        "quality": "high",
        "variants": 4,
        "duration_seconds": None,
        "credits": credits,
        "kind": "attempt",
        "version_kept": None,
        "project": "Nike spring",
        "reference": None,
    } | extra


def test_a_good_signature_records_the_charge_for_the_member_found_by_email(feed: Feed, standin: SlackStandIn) -> None:
    answer = feed.post(created(a_charge()))
    assert answer.status_code == 200, answer.text
    assert answer.json()["teams"]["design"] == {"new": 1, "known": 0, "matched": 0, "unplanned": 1}
    [entry] = feed.entries()
    assert (entry.member, entry.spent_delta, entry.project, entry.idempotency_key) == (
        "U0ERIN",
        32,
        "Nike spring",
        "charge:ch_8f2k",
    )
    assert standin.calls_to("users.lookupByEmail")


def test_a_bad_signature_is_401_and_writes_nothing(feed: Feed) -> None:
    forged = "v1," + base64.b64encode(b"x" * 32).decode()
    assert feed.post(created(a_charge()), signature=forged).status_code == 401
    assert feed.post(created(a_charge()), signature="garbage").status_code == 401
    assert feed.charges() == 0


def test_a_stale_timestamp_is_401_and_writes_nothing(feed: Feed) -> None:
    assert feed.post(created(a_charge()), timestamp=time.time() - 6 * 60).status_code == 401
    assert feed.post(created(a_charge()), timestamp=time.time() + 6 * 60).status_code == 401
    assert feed.charges() == 0


def test_a_redelivered_webhook_id_changes_nothing(feed: Feed) -> None:
    assert feed.post(created(a_charge()), webhook_id="msg_1").status_code == 200
    again = feed.post(created(a_charge()), webhook_id="msg_1")
    assert (again.status_code, again.json().get("redelivered")) == (200, True)
    assert feed.charges() == 1


def test_a_webhook_id_reused_with_another_body_is_409_and_audited(feed: Feed, config: CreditsConfig) -> None:
    """The bug: the same webhook-id with another body answered 200 "redelivered" and its charges were lost."""
    from bot.services.workspace import audit_trail as audit

    assert feed.post(created(a_charge()), webhook_id="msg_1").status_code == 200
    other = feed.post(created(a_charge("ch_other")), webhook_id="msg_1")
    assert other.status_code == 409, other.text
    assert "already used for a delivery with another body" in other.json()["error"]
    assert feed.charges() == 1
    carol = Member("U0CAROL", "design", "admin", True)
    page = audit.read_audit(
        feed.db, config, workspace_id=WORKSPACE, admin=carol, team=None, days=30, now=datetime.now(UTC)
    )
    assert [line.target for line in page.lines if line.action == "delivery_id_reused"] == ["delivery msg_1"]
    assert feed.post(created(a_charge("ch_other")), webhook_id="msg_2").status_code == 200  # under a new id: in


def test_a_webhook_id_longer_than_kept_is_400_before_anything_is_written(feed: Feed) -> None:
    """The bug: a 201-character webhook-id wrote the charges, then failed to be remembered: 500 for ever."""
    answer = feed.post(created(a_charge()), webhook_id="m" * 201)
    assert answer.status_code == 400 and "webhook-id is longer than 200 characters" in answer.json()["error"]
    assert feed.charges() == 0
    assert feed.post(created(a_charge()), webhook_id="m" * 200).status_code == 200


@pytest.mark.parametrize("field", ["id", "team", "tool", "user_email", "project", "reference", "quality"])
def test_a_nul_or_control_character_in_a_text_field_is_400_naming_it(feed: Feed, field: str) -> None:
    """The bug: a NUL in a string could not be stored on PostgreSQL (500, the sender retrying for ever)."""
    for bad in ("ch\x00x", "ch\x1bx"):
        answer = feed.post(created(a_charge(**{field: f"{field}{bad}@x"})))
        assert answer.status_code == 400, answer.text
        assert f"charges.0.{field}" in answer.json()["error"] and "control characters" in answer.json()["error"]
    assert feed.charges() == 0


@pytest.mark.parametrize("value", ["7", True, 7.0])
def test_a_number_sent_as_text_a_boolean_or_a_float_is_400_naming_the_field(feed: Feed, value: Any) -> None:
    """The bug: ``"credits": "7"``, ``true`` and ``7.0`` were taken as 7, 1 and 7 credits."""
    answer = feed.post(created(a_charge(credits=value)))
    assert answer.status_code == 400 and "data.charges.0.credits" in answer.json()["error"]
    answer = feed.post(created(a_charge(variants=value)))
    assert answer.status_code == 400 and "data.charges.0.variants" in answer.json()["error"]
    balance = {
        "type": "balance.updated",
        "data": {"team": "design", "plan_credits": value, "extra_credits": 0, "as_of": "2026-11-24T10:05:00Z"},
    }
    answer = feed.post(balance)
    assert answer.status_code == 400 and "data.plan_credits" in answer.json()["error"]
    assert feed.charges() == 0


def test_the_same_charge_in_two_deliveries_is_recorded_once(feed: Feed) -> None:
    assert feed.post(created(a_charge())).status_code == 200
    second = feed.post(created(a_charge(), a_charge("ch_2", 8)))
    assert second.status_code == 200
    assert second.json()["teams"]["design"] == {"new": 1, "known": 1, "matched": 0, "unplanned": 1}
    assert [e.spent_delta for e in feed.entries()] == [32, 8]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (created(a_charge(credits=0)), "credits"),
        (created(a_charge(kind="bonus")), "kind"),
        ({"type": "charges.deleted", "data": {}}, "type"),
        ({"type": "charges.created", "data": {"charges": []}}, "charges"),
    ],
)
def test_a_malformed_body_is_400_with_a_one_line_reason(feed: Feed, payload: Any, reason: str) -> None:
    answer = feed.post(payload)
    assert answer.status_code == 400
    message = answer.json()["error"]
    assert reason in message and "\n" not in message
    assert feed.charges() == 0


def test_a_body_that_is_not_json_is_400(feed: Feed) -> None:
    answer = feed.post(None, raw=b"{not json")
    assert answer.status_code == 400 and "not JSON" in answer.json()["error"]


def test_a_refund_gives_credits_back_as_extra(feed: Feed) -> None:
    assert feed.post(created(a_charge(), a_charge("rf_1", 32, kind="refund", refunds="ch_8f2k"))).status_code == 200
    with feed.db.read() as session:
        row = ledger_reads.get_balance_row(session, workspace_id=WORKSPACE, team="design")
        assert row is not None and (row.plan, row.extra, row.spent) == (5000 - 32, 500 + 32, 0)


def test_a_refund_of_a_charge_never_seen_is_refused_and_listed(feed: Feed) -> None:
    """The bug: a refund for a charge id never seen added its credits (10,000,000 from one delivery)."""
    for delivery in (
        created(a_charge("rf_x", 10_000_000, kind="refund")),
        created(a_charge(), a_charge("rf_y", 10_000_000, kind="refund", refunds="ch_nope")),
    ):
        answer = feed.post(delivery)
        assert answer.status_code == 200, answer.text
        [refused] = answer.json()["refused"]
        assert refused["team"] == "design" and refused["id"] in ("rf_x", "rf_y")
    assert answer.json()["refused"][0]["reason"] == "charge ch_nope is not recorded"
    with feed.db.read() as session:
        row = ledger_reads.get_balance_row(session, workspace_id=WORKSPACE, team="design")
        assert row is not None and (row.plan, row.extra) == (5000 - 32, 500)


def test_the_import_prints_a_refused_refund_and_exits_3(
    feed: Feed, standin: SlackStandIn, config: CreditsConfig, tmp_path: Path
) -> None:
    header = ",".join(CSV_COLUMNS)
    rows = [
        "a,2026-11-24T09:05:00Z,design,,image,high,4,,40,attempt,,,,",
        "r1,2026-11-24T09:06:00Z,design,,image,high,4,,40,refund,,,,a",
        "r2,2026-11-24T09:07:00Z,design,,image,high,4,,40,refund,,,,a",
    ]
    path = tmp_path / "charges.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    settings = Settings(
        slack_bot_token=SecretStr(standin.bot_token),
        slack_signing_secret=SecretStr("not-used-by-the-import"),
        slack_api_url=standin.base_url,
        database_url=feed.db.url,
    )
    out = io.StringIO()
    process = build_process(settings, config)
    try:
        status = import_charges_file(process.deps, process.client, path=path, skip_bad=False, out=out)
    finally:
        process.close()
    assert status == EXIT_CONFLICTS
    assert (
        "line 4: refund r2 refused: 40 credits is more than charge a has left to refund (40 charged, 40 refunded: "
        "at most 0)" in out.getvalue()
    )


def test_a_conflicting_copy_is_skipped_and_listed_and_the_others_are_recorded(feed: Feed) -> None:
    assert feed.post(created(a_charge("a", 40))).status_code == 200
    delivery = created(a_charge("b1", 5), a_charge("a", 41), a_charge("b2", 6))
    for attempt in (1, 2):  # a sender that retries anyway gets the same answer, and nothing is written twice
        answer = feed.post(delivery)
        assert answer.status_code == 200, answer.text
        assert answer.json()["conflicts"] == [{"id": "a", "team": "design", "differs": "credits 40 then 41"}]
        assert answer.json()["teams"]["design"]["new"] == (2 if attempt == 1 else 0)
    assert sorted((e.idempotency_key, e.spent_delta) for e in feed.entries()) == [
        ("charge:a", 40),
        ("charge:b1", 5),
        ("charge:b2", 6),
    ]


def test_the_import_skips_a_conflicting_line_imports_the_rest_and_exits_3(
    feed: Feed, standin: SlackStandIn, config: CreditsConfig, tmp_path: Path
) -> None:
    assert feed.post(created(a_charge("a", 40, user_email=None, project=None))).status_code == 200
    header = ",".join(CSV_COLUMNS[:-1])  # a file written before ``refunds`` is read as before
    rows = [
        f"{c},2026-11-24T09:05:00Z,design,,image,high,4,,{n},attempt,,," for c, n in [("b1", 5), ("a", 41), ("b2", 6)]
    ]
    path = tmp_path / "charges.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    settings = Settings(
        slack_bot_token=SecretStr(standin.bot_token),
        slack_signing_secret=SecretStr("not-used-by-the-import"),
        slack_api_url=standin.base_url,
        database_url=feed.db.url,
    )
    out = io.StringIO()
    process = build_process(settings, config)
    try:
        status = import_charges_file(process.deps, process.client, path=path, skip_bad=False, out=out)
    finally:
        process.close()
    assert status == EXIT_CONFLICTS
    printed = out.getvalue()
    assert "design: 2 new, 0 already known, 0 matched to tasks, 2 unplanned" in printed
    assert "line 3: charge a skipped: already recorded with other figures (credits 40 then 41)" in printed
    assert sorted(e.idempotency_key for e in feed.entries()) == ["charge:a", "charge:b1", "charge:b2"]


def test_a_charge_fed_while_its_task_waits_for_approval_is_counted_once(
    feed: Feed, config: CreditsConfig, clock: Clock
) -> None:
    alice = Member("U0ALICE", "design", "creator", False)
    command = RunCommand(TaskRequest(tool="image", quality="ultra", variants=4))
    run = tasks.start_task(feed.db, config, workspace_id=WORKSPACE, member=alice, command=command, now=clock())
    assert run.kind == "approval_needed" and run.task is not None and run.approval is not None
    answer = feed.post(created(a_charge("ch_p", 64, quality="ultra", reference=f"KC-{run.task.number}")))
    assert answer.status_code == 200 and answer.json()["teams"]["design"]["matched"] == 1
    approvals.decide(
        feed.db,
        config,
        workspace_id=WORKSPACE,
        approval_id=run.approval.id,
        decider="U0BOB",
        is_workspace_admin=False,
        approve=True,
        note=None,
        now=clock(),
    )
    done = DoneCommand(number=run.task.number)
    tasks.finish_task(feed.db, config, workspace_id=WORKSPACE, member=alice, command=done, now=clock())
    with feed.db.read() as session:
        row = ledger_reads.get_balance_row(session, workspace_id=WORKSPACE, team="design")
        assert row is not None and (row.held, row.spent) == (0, 64)


def test_a_refund_fed_after_the_renewal_leaves_spent_this_cycle_at_zero(feed: Feed, clock: Clock) -> None:
    clock.now = datetime(2026, 11, 30, 10, tzinfo=UTC)
    assert feed.post(created(a_charge("ch_r", 40, occurred_at="2026-11-30T09:00:00Z"))).status_code == 200
    clock.now = datetime(2026, 12, 1, 12, tzinfo=UTC)  # the plan renewed on 1 Dec
    refund = a_charge("rf_r", 40, kind="refund", refunds="ch_r", occurred_at="2026-12-01T11:00:00Z")
    assert feed.post(created(refund)).status_code == 200
    with feed.db.read() as session:
        row = ledger_reads.get_balance_row(session, workspace_id=WORKSPACE, team="design")
        assert row is not None and (row.plan, row.extra, row.spent) == (5000, 540, 0)


def test_a_charge_for_an_unknown_team_is_400_and_writes_nothing(feed: Feed) -> None:
    answer = feed.post(created(a_charge(), a_charge("ch_2", team="marketing")), webhook_id="msg_team")
    assert answer.status_code == 400 and "unknown team 'marketing'" in answer.json()["error"]
    assert feed.charges() == 0
    # Fixed in the credits file and retried with the same webhook-id: the retry is handled, not ignored.
    assert feed.post(created(a_charge()), webhook_id="msg_team").json()["teams"]["design"]["new"] == 1


def test_a_balance_update_is_kept_for_reconciliation(feed: Feed) -> None:
    update = {
        "type": "balance.updated",
        "data": {"team": "design", "plan_credits": 5000, "extra_credits": 484, "as_of": "2026-11-24T10:05:00Z"},
    }
    answer = feed.post(update)
    assert answer.status_code == 200 and answer.json()["difference"] == -16


def test_without_a_secret_the_feed_is_404(standin: SlackStandIn, database: Database, config: CreditsConfig) -> None:
    app, signing_secret = build_app(standin, database, config, Clock(datetime(2026, 11, 24, 10, tzinfo=UTC)))
    server = BackgroundServer(SlackWsgiApp(app, signing_secret)).start()
    try:
        answer = requests.post(server.url + FEED_PATH, data=b"{}", timeout=10)
        assert answer.status_code == 404
    finally:
        stop_in_background(server)


def test_socket_mode_serves_only_health_and_the_feed(
    standin: SlackStandIn, database: Database, config: CreditsConfig, clock: Clock
) -> None:
    """What ``python -m bot serve`` runs under Socket Mode with KETER_WEBHOOK_SECRET set."""
    app, signing_secret = build_app(standin, database, config, clock)
    endpoint = FeedEndpoint(secret=SECRET, deps=app_deps(app), client=app.client)
    server = BackgroundServer(SlackWsgiApp(app, signing_secret, feed=endpoint, slack_events=False)).start()
    try:
        assert requests.post(server.url + "/slack/events", data=b"{}", timeout=10).status_code == 404
        assert requests.get(server.url + "/healthz", timeout=10).status_code == 200
        assert Feed(server, database).post(created(a_charge())).status_code == 200
    finally:
        stop_in_background(server)
