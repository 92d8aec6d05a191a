"""Every registered listener runs inside the one error boundary, which always reaches the user;
``/credits admin`` and ``/credits help`` come from the subcommand declarations.

These dispatch signed requests to a Bolt app in-process (``process_before_response``, so the
listener has run when ``dispatch`` returns); Slack's Web API is the stand-in.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
from slack_bolt import Ack, App, BoltContext, BoltRequest, BoltResponse
from slack_sdk import WebClient

from bot.credits_file import CreditsConfig
from bot.deps import Deps
from bot.devtools.render import render_blocks
from bot.devtools.signing import sign, signed_interaction, slash_command_form, view_submission_payload
from bot.devtools.slack_standin import SlackStandIn
from bot.domain.errors import UserFacingError
from bot.slack.ids import CallbackId
from bot.slack.listeners import LISTENERS, register_all
from bot.slack.listeners.errors import error_boundary, wrapped_listener
from bot.slack.listeners.middleware import ProvideDeps
from bot.store.db import Database

SECRET = "test-signing-secret"
BOB, CHANNEL = "U0BOB", "C0DESIGN"


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn() as api:
        api.add_user(BOB, name="bob")
        api.add_channel(CHANNEL, "design")
        yield api


@pytest.fixture
def deps(config: CreditsConfig, tmp_path: Path) -> Deps:
    """Nothing here touches the database; the listeners under test only need the dependencies."""
    return Deps(config=config, db=Database(f"sqlite:///{tmp_path / 'unused.db'}"), clock=lambda: datetime.now(UTC))


def make_app(standin: SlackStandIn) -> App:
    return App(
        client=WebClient(token=standin.bot_token, base_url=standin.base_url),
        signing_secret=SECRET,
        token_verification_enabled=False,
        process_before_response=True,
    )


def test_every_registered_listener_is_inside_the_error_boundary(standin: SlackStandIn, deps: Deps) -> None:
    app = make_app(standin)
    register_all(app, deps)
    registered = [listener.ack_function for listener in app._listeners]
    assert len(registered) == len(LISTENERS)
    inner = [wrapped_listener(function) for function in registered]
    assert None not in inner, [f.__name__ for f, i in zip(registered, inner, strict=True) if i is None]
    assert inner == [listener for _, _, listener in LISTENERS]


def submit_modal(app: App) -> BoltResponse:
    payload = view_submission_payload(
        callback_id=CallbackId.DENY_REASON, private_metadata=json.dumps({}), values={}, user_id=BOB
    )
    body, headers = signed_interaction(SECRET, payload)
    return app.dispatch(BoltRequest(body=body, headers=headers))


def modal_app(standin: SlackStandIn, deps: Deps, listener: Callable[..., None]) -> App:
    app = make_app(standin)
    app.use(ProvideDeps(deps))
    app.view(CallbackId.DENY_REASON)(error_boundary(listener))
    return app


def test_a_user_error_after_a_modal_closed_is_posted_privately_in_the_channel(
    standin: SlackStandIn, deps: Deps
) -> None:
    def closes_then_refuses(ack: Ack, context: BoltContext) -> None:
        ack()
        context["channel_id"] = CHANNEL  # as the deny listener does once it knows the approval
        raise UserFacingError("That request was withdrawn meanwhile.")

    response = submit_modal(modal_app(standin, deps, closes_then_refuses))
    assert response.status == 200
    [posted] = standin.calls_to("chat.postEphemeral")
    assert posted.args["channel"] == CHANNEL and posted.args["user"] == BOB
    assert posted.args["text"] == "That request was withdrawn meanwhile."


def test_without_a_channel_the_user_is_told_in_their_dm(standin: SlackStandIn, deps: Deps) -> None:
    def refuses(ack: Ack) -> None:
        ack()
        raise UserFacingError("Nothing to deny.")

    submit_modal(modal_app(standin, deps, refuses))
    [posted] = standin.calls_to("chat.postEphemeral")
    assert posted.args["channel"] == BOB and posted.args["user"] == BOB
    assert posted.args["text"] == "Nothing to deny."


def test_our_own_failure_gives_the_user_a_reference_that_is_logged(
    standin: SlackStandIn, deps: Deps, caplog: pytest.LogCaptureFixture
) -> None:
    def breaks(ack: Ack) -> None:
        ack()
        raise RuntimeError("database went away")

    with caplog.at_level(logging.ERROR, logger="bot.slack.listeners.errors"):
        submit_modal(modal_app(standin, deps, breaks))
    [posted] = standin.calls_to("chat.postEphemeral")
    assert posted.args["user"] == BOB and posted.args["text"].startswith("Something went wrong (ref ")
    reference = posted.args["text"].removeprefix("Something went wrong (ref ").rstrip(")")
    assert any(reference in record.getMessage() and record.exc_info for record in caplog.records)
    assert "database went away" not in json.dumps(posted.args)


def test_listeners_get_what_the_middleware_put_in_the_context(standin: SlackStandIn, deps: Deps) -> None:
    seen: dict[str, object] = {}

    def records(ack: Ack, deps: Deps, workspace_id: str, user_id: str, channel_id: str, now: datetime) -> None:
        ack()
        seen.update(deps=deps, workspace_id=workspace_id, user_id=user_id, channel_id=channel_id, now=now)

    submit_modal(modal_app(standin, deps, records))
    assert seen["deps"] is deps and seen["workspace_id"] == "T0STANDIN" and seen["user_id"] == BOB
    assert seen["channel_id"] == "" and isinstance(seen["now"], datetime)
    assert standin.calls_to("chat.postEphemeral") == []


def run_command(standin: SlackStandIn, app: App, text: str) -> str:
    """``/credits <text>`` signed, dispatched in-process; what the user saw (in the ack or on the response_url)."""
    response_url = standin.new_response_url()
    body = urlencode(
        slash_command_form(text=text, user_id=BOB, channel_id=CHANNEL, response_url=response_url, team_id="T0STANDIN")
    )
    response = app.dispatch(BoltRequest(body=body, headers=sign(SECRET, body)))
    assert response.status == 200
    payload = json.loads(response.body) if response.body else standin.wait_for_response(response_url)[0].payload
    assert payload["response_type"] == "ephemeral"
    return render_blocks(payload.get("blocks") or [], payload.get("text", ""))


def test_admin_alone_answers_with_the_admin_help(
    standin: SlackStandIn, database: Database, config: CreditsConfig
) -> None:
    app = make_app(standin)
    register_all(app, Deps(config=config, db=database, clock=lambda: datetime.now(UTC)))
    shown = run_command(standin, app, "admin")
    assert "Unknown admin command" not in shown
    assert "/credits admin digest <team> <day> <hh:mm>" in shown and "e.g. /credits admin topup design 500" in shown
    assert "/credits digest preview [team=…]" in run_command(standin, app, "help")
    assert "Did you mean topup?" in run_command(standin, app, "admin topop design 5")
