"""The real Bolt app under test, reached either in-process (``app.dispatch``) or over real HTTP.

Both ways build the app exactly as production does (``create_app``), send requests signed as Slack
signs them, and talk to the Slack Web API stand-in over HTTP on 127.0.0.1. Every test ends by checking
what the bot sent to Slack: each Web API call against Slack's published method list and required
arguments, and each blocks payload through slack_sdk's Block Kit models (which carry Slack's limits).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from pydantic import SecretStr
from slack_bolt import App, BoltRequest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.app import CreditsApp, create_app
from bot.credits_file import CreditsConfig
from bot.deps import Deps
from bot.devtools.signing import (
    block_action_payload,
    sign,
    signed_interaction,
    slash_command_form,
    view_submission_payload,
)
from bot.devtools.slack_standin import SlackStandIn
from bot.settings import Settings
from bot.slack.outbound.debounce import Debouncer
from bot.slack.outbound.pacing import PacedWebClient, Pacer
from bot.store.db import Database
from tests.conftest import Clock
from tests.slack_api_spec import check_call_against_spec, spec_available

WORKSPACE = "T0STANDIN"
# Each stand-in's apps' debounced Home refreshes, flushed before the stand-in stops (so none outlives
# its test and lands on a later test's stand-in that happens to reuse the port).
_REFRESHERS: dict[int, list[Debouncer]] = {}
ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"
DESIGN_CHANNEL = "C0DESIGN"


def check_blocks(blocks: list[dict[str, Any]]) -> list[str]:
    """Problems slack_sdk's typed models find in a blocks payload (unknown types, Slack's limits)."""
    problems = []
    for parsed, raw in zip(Block.parse_all(blocks), blocks, strict=True):
        if type(parsed) is Block:
            problems.append(f"unknown block type {raw.get('type')!r}")
            continue
        try:
            if parsed.to_dict() != raw:
                problems.append(f"block {raw.get('type')} does not round-trip through slack_sdk")
        except Exception as exc:
            problems.append(f"block {raw.get('type')}: {exc}")
    return problems


def check_view(view: dict[str, Any]) -> list[str]:
    """Problems slack_sdk's View model finds (Slack's limits on titles, block counts…), and in its blocks."""
    problems = check_blocks(view.get("blocks") or [])
    try:
        View(**view).validate_json()
    except Exception as exc:
        problems.append(f"view: {exc}")
    return problems


def problems_in_what_was_sent(api: SlackStandIn) -> list[str]:
    """Every Web API call checked against Slack's spec, every blocks payload against Block Kit."""
    problems: list[str] = []
    for call in api.calls:
        if spec_available():
            problems += [f"{call.method}: {p}" for p in check_call_against_spec(call.method, call.args, call.has_token)]
        if isinstance(call.args.get("blocks"), list):
            problems += [f"{call.method}: {p}" for p in check_blocks(call.args["blocks"])]
        view = call.args.get("view")
        if isinstance(view, str):  # form-encoded calls carry the view as JSON text
            view = json.loads(view)
        if isinstance(view, dict):
            problems += [f"{call.method}: {p}" for p in check_view(view)]
    for response in api.responses:
        if isinstance(response.payload.get("blocks"), list):
            problems += [f"response_url: {p}" for p in check_blocks(response.payload["blocks"])]
    return problems


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    """The Slack Web API stand-in, knowing the default config's members; checks what it was sent."""
    with SlackStandIn() as api:
        api.add_user(ALICE, name="alice")
        api.add_user(BOB, name="bob")
        api.add_user(CAROL, name="carol")
        api.add_channel(DESIGN_CHANNEL, "design")
        yield api
        for refresher in _REFRESHERS.pop(id(api), []):  # debounced Home refreshes: now, while it answers
            refresher.flush()
        problems = problems_in_what_was_sent(api)
        assert not problems, "the bot sent Slack something it would reject:\n" + "\n".join(problems)


@dataclass(frozen=True)
class Answer:
    """The bot's immediate answer to one request (what Slack would see within its 3 seconds)."""

    status_code: int
    text: str


Transport = Callable[[str, dict[str, str]], Answer]


def ack_answer(answer: Answer) -> dict[str, Any] | None:
    """The message an ack's own body carries (Slack shows it at once), checked like any blocks; else None."""
    if answer.status_code != 200 or not answer.text.startswith("{"):
        return None
    payload: dict[str, Any] = json.loads(answer.text)
    if not (payload.get("text") or payload.get("blocks")):
        return None
    problems = check_blocks(payload.get("blocks") or [])
    assert not problems, "the ack carries blocks Slack would reject:\n" + "\n".join(problems)
    return payload


@dataclass
class Reply:
    """What one slash command produced: the immediate answer and the posts to its response_url."""

    status: int
    body: str
    response_url: str
    payloads: list[dict[str, Any]] = field(default_factory=list)

    @property
    def payload(self) -> dict[str, Any]:
        assert self.payloads, "the bot posted nothing to the response_url"
        return self.payloads[0]

    @property
    def text(self) -> str:
        """Everything visible in the first reply, flattened, for substring checks."""
        from bot.devtools.render import render_blocks

        return render_blocks(self.payload.get("blocks") or [], self.payload.get("text", ""))


def app_settings(standin: SlackStandIn, signing_secret: str, **settings: Any) -> Settings:
    """Settings pointing the app at the stand-in, with signature checks on."""
    return Settings(
        slack_bot_token=SecretStr(standin.bot_token),
        slack_signing_secret=SecretStr(signing_secret),
        slack_api_url=standin.base_url,
        **settings,
    )


def build_app(
    standin: SlackStandIn, database: Database, config: CreditsConfig, clock: Clock, **settings: Any
) -> tuple[App, str]:
    """The app exactly as production builds it (create_app), and the signing secret it verifies with."""
    signing_secret = secrets.token_hex(16)
    app = create_app(app_settings(standin, signing_secret, **settings), Deps(config=config, db=database, clock=clock))
    # Slack's one message per second per channel would make every test that posts twice wait a second;
    # tests/slack/test_pacing.py checks the real pacing.
    assert isinstance(app.client, PacedWebClient)
    app.client.pacer = Pacer(interval=0.0)
    _REFRESHERS.setdefault(id(standin), []).append(app_deps(app).home_refresh)
    return app, signing_secret


def app_deps(app: App) -> Deps:
    """The dependencies ``create_app`` gave the app's listeners."""
    assert isinstance(app, CreditsApp)
    return app.deps


def dispatcher(app: App) -> Transport:
    """Hand a signed request straight to Bolt, as its HTTP adapters do after reading the body."""

    def send(body: str, headers: dict[str, str]) -> Answer:
        response = app.dispatch(BoltRequest(body=body, headers=dict(headers)))
        return Answer(response.status, response.body)

    return send


class BotUnderTest:
    """The app plus a way to send it signed slash commands, clicks and submissions as Slack would."""

    def __init__(
        self, standin: SlackStandIn, send: Transport, signing_secret: str, db: Database, app: App | None = None
    ) -> None:
        self.standin = standin
        self.send = send
        self.signing_secret = signing_secret
        self.db = db
        self.app = app

    def finish_work(self) -> None:
        """Wait until every listener started so far has returned; the app takes no requests after this."""
        assert self.app is not None, "only the in-process app exposes its listener pool"
        executor = self.app.listener_runner.listener_executor
        assert isinstance(executor, ThreadPoolExecutor)
        executor.shutdown(wait=True)
        self.flush_home_refreshes()

    def flush_home_refreshes(self) -> None:
        """Publish the debounced Home tab refreshes now, while the stand-in still answers (and checks) them."""
        assert self.app is not None
        app_deps(self.app).home_refresh.flush()

    def command_body(self, text: str, *, user: str = ALICE, channel: str = DESIGN_CHANNEL) -> tuple[str, str]:
        """A form-encoded /credits body and its response_url."""
        response_url = self.standin.new_response_url()
        form = slash_command_form(
            text=text, user_id=user, channel_id=channel, response_url=response_url, team_id=WORKSPACE
        )
        return urlencode(form), response_url

    def post(self, body: str, headers: dict[str, str]) -> Answer:
        """Deliver one request as Slack would; the immediate answer."""
        return self.send(body, headers)

    def command(self, text: str, *, user: str = ALICE, channel: str = DESIGN_CHANNEL, wait: bool = True) -> Reply:
        """Send ``/credits <text>`` signed; the answer in the ack's body, else wait for it on its response_url."""
        body, response_url = self.command_body(text, user=user, channel=channel)
        answer = self.post(body, sign(self.signing_secret, body))
        reply = Reply(answer.status_code, answer.text, response_url)
        in_ack = ack_answer(answer)
        if in_ack is not None:
            reply.payloads = [in_ack]
        elif wait and answer.status_code == 200:
            reply.payloads = [r.payload for r in self.standin.wait_for_response(response_url, timeout=10)]
        return reply

    def click(
        self, action_id: str, value: str, *, user: str, message_ts: str = "", channel: str = DESIGN_CHANNEL
    ) -> tuple[Answer, str]:
        """Click a button as ``user``; returns the immediate answer and the click's response_url."""
        response_url = self.standin.new_response_url()
        payload = block_action_payload(
            action_id=action_id,
            value=value,
            user_id=user,
            channel_id=channel,
            message_ts=message_ts,
            response_url=response_url,
            team_id=WORKSPACE,
        )
        body, headers = signed_interaction(self.signing_secret, payload)
        return self.post(body, headers), response_url

    def submit_view(self, callback_id: str, private_metadata: str, values: dict[str, Any], *, user: str) -> Answer:
        """Submit a modal as ``user``."""
        payload = view_submission_payload(
            callback_id=callback_id, private_metadata=private_metadata, values=values, user_id=user, team_id=WORKSPACE
        )
        body, headers = signed_interaction(self.signing_secret, payload)
        return self.post(body, headers)

    def assert_ledger_consistent(self) -> None:
        """After every test: each running balance equals the sum of its ledger entries."""
        from bot.store.ledger_checks import check_running_balances

        with self.db.read() as session:
            assert check_running_balances(session) == []


def in_process_bot(standin: SlackStandIn, database: Database, config: CreditsConfig, clock: Clock) -> BotUnderTest:
    """The app reached through ``app.dispatch``: the same signed requests, no socket, milliseconds each."""
    app, secret = build_app(standin, database, config, clock)
    return BotUnderTest(standin, dispatcher(app), secret, database, app)
