"""The Slack stand-in, driven through the real slack_sdk clients over HTTP."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from bot.devtools.slack_standin import SlackStandIn
from tests.slack_api_spec import check_call_against_spec, spec_available

TOKEN = "xoxb-test-token"
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*Quote:* 120 credits"}}
METADATA = {"event_type": "credits_digest", "event_payload": {"week": "2024-W10", "spent": 120}}


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn(bot_token=TOKEN, clock=lambda: 1_700_000_000.0) as server:
        yield server


@pytest.fixture
def client(standin: SlackStandIn) -> WebClient:
    return WebClient(token=TOKEN, base_url=standin.base_url)


def api_error(exc_info: pytest.ExceptionInfo[SlackApiError]) -> str:
    return str(exc_info.value.response["error"])


def test_base_url_points_at_the_api_root(standin: SlackStandIn) -> None:
    assert standin.base_url == f"http://127.0.0.1:{standin.port}/api/"
    first, second = standin.new_response_url(), standin.new_response_url()
    assert first.startswith(f"http://127.0.0.1:{standin.port}/response/")
    assert first != second


def test_auth_test_identifies_the_bot(client: WebClient, standin: SlackStandIn) -> None:
    answer = client.auth_test()

    assert answer["team_id"] == "T0STANDIN"
    assert answer["user_id"] == "U0BOT"
    assert answer["bot_id"] == "B0BOT"
    [call] = standin.calls_to("auth.test")
    assert call.has_token
    assert "Authorization" in call.headers


def test_users_info_returns_configured_user(client: WebClient, standin: SlackStandIn) -> None:
    standin.add_user("U123", name="mira", is_admin=True, tz="America/New_York")

    user = client.users_info(user="U123")["user"]

    assert user["id"] == "U123"
    assert user["name"] == "mira"
    assert user["profile"]["display_name"] == "mira"
    assert user["is_admin"] is True
    assert user["is_owner"] is False
    assert user["is_bot"] is False
    assert user["tz"] == "America/New_York"
    assert user["tz_offset"] in (-5 * 3600, -4 * 3600)


def test_users_info_unknown_user(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc_info:
        client.users_info(user="UNOBODY")
    assert api_error(exc_info) == "user_not_found"


def test_post_update_and_history(client: WebClient, standin: SlackStandIn) -> None:
    first = client.chat_postMessage(channel="C1", text="first", blocks=[SECTION], metadata=METADATA)
    second = client.chat_postMessage(channel="C1", text="second")
    reply = client.chat_postMessage(channel="C1", text="in thread", thread_ts=first["ts"])

    assert first["channel"] == "C1"
    assert first["message"]["blocks"] == [SECTION]
    assert first["message"]["metadata"] == METADATA
    assert first["ts"] == "1700000000.000000"
    assert second["ts"] == "1700000000.000001"  # unique and increasing even with a pinned clock

    updated = client.chat_update(channel="C1", ts=first["ts"], text="first, edited")
    assert updated["message"]["text"] == "first, edited"
    assert updated["message"]["blocks"] == [SECTION]

    history = client.conversations_history(channel="C1", include_all_metadata=True)
    assert [m["text"] for m in history["messages"]] == ["second", "first, edited"]  # newest first, no replies
    assert history["messages"][1]["metadata"] == METADATA
    assert history["messages"][1]["reply_count"] == 1

    without_metadata = client.conversations_history(channel="C1")
    assert all("metadata" not in m for m in without_metadata["messages"])

    page = client.conversations_history(channel="C1", limit=1)
    assert [m["text"] for m in page["messages"]] == ["second"]
    assert page["has_more"] is True

    newer = client.conversations_history(channel="C1", oldest=first["ts"])
    assert [m["text"] for m in newer["messages"]] == ["second"]

    assert [m["text"] for m in standin.messages("C1")] == ["first, edited", "second", "in thread"]
    assert standin.messages("C1")[2]["thread_ts"] == reply["message"]["thread_ts"] == first["ts"]


def test_form_encoded_json_values_are_decoded(client: WebClient, standin: SlackStandIn) -> None:
    client.api_call(
        "chat.postMessage",
        params={
            "channel": "C1",
            "text": "form",
            "blocks": json.dumps([SECTION]),
            "metadata": json.dumps(METADATA),
        },
    )

    [call] = standin.calls_to("chat.postMessage")
    assert call.args["blocks"] == [SECTION]
    assert call.args["metadata"] == METADATA
    assert "token" not in call.args


def test_update_of_unknown_message(client: WebClient) -> None:
    client.chat_postMessage(channel="C1", text="hello")
    with pytest.raises(SlackApiError) as exc_info:
        client.chat_update(channel="C1", ts="1.000000", text="nope")
    assert api_error(exc_info) == "message_not_found"


def test_post_ephemeral_and_permalink(client: WebClient) -> None:
    ephemeral = client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert ephemeral["message_ts"]

    posted = client.chat_postMessage(channel="C9", text="link me")
    link = client.chat_getPermalink(channel="C9", message_ts=posted["ts"])
    assert link["permalink"] == "https://standin.slack.com/archives/C9/p" + posted["ts"].replace(".", "")


def test_conversations_info_reports_membership(client: WebClient, standin: SlackStandIn) -> None:
    standin.add_channel("C7", "design-studio")
    standin.set_bot_in_channel("C8", False)

    assert client.conversations_info(channel="C7")["channel"]["name"] == "design-studio"
    assert client.conversations_info(channel="C7")["channel"]["is_member"] is True
    assert client.conversations_info(channel="C8")["channel"]["is_member"] is False


def test_not_in_channel(client: WebClient, standin: SlackStandIn) -> None:
    standin.set_bot_in_channel("C2", False)

    with pytest.raises(SlackApiError) as exc_info:
        client.chat_postMessage(channel="C2", text="hello")
    assert api_error(exc_info) == "not_in_channel"
    assert standin.messages("C2") == []

    standin.set_bot_in_channel("C2", True)
    client.chat_postMessage(channel="C2", text="hello")
    assert [m["text"] for m in standin.messages("C2")] == ["hello"]


def test_views_open_then_update(client: WebClient) -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Quote"}, "blocks": [SECTION]}
    opened = client.views_open(trigger_id="123.456.abc", view=view)["view"]
    assert opened["id"]
    assert opened["blocks"] == [SECTION]

    updated = client.views_update(view_id=opened["id"], view={**view, "blocks": []})["view"]
    assert updated["id"] == opened["id"]
    assert updated["blocks"] == []

    with pytest.raises(SlackApiError) as exc_info:
        client.views_update(view_id="VNOPE", view=view)
    assert api_error(exc_info) == "not_found"


def test_files_upload_v2_round_trip(client: WebClient, standin: SlackStandIn) -> None:
    data = bytes(range(256)) * 3 + b"\r\n--not-a-boundary--\r\n"

    result = client.files_upload_v2(
        content=data, filename="digest.csv", title="Weekly digest", channel="C1", initial_comment="Here"
    )

    file_id = result["file"]["id"]
    assert standin.uploads[file_id] == data
    assert result["file"]["title"] == "Weekly digest"
    assert result["file"]["size"] == len(data)
    [shared] = standin.messages("C1")
    assert shared["text"] == "Here"
    assert shared["files"][0]["id"] == file_id


def test_rate_limit_is_retried_by_retry_handler(client: WebClient, standin: SlackStandIn) -> None:
    standin.fail_next("chat.postMessage", retry_after=0)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))

    answer = client.chat_postMessage(channel="C1", text="eventually")

    assert answer["ok"] is True
    assert [c.status for c in standin.calls_to("chat.postMessage")] == [429, 200]
    assert [m["text"] for m in standin.messages("C1")] == ["eventually"]


def test_rate_limit_answer_without_retry(client: WebClient, standin: SlackStandIn) -> None:
    standin.fail_next("auth.test", retry_after=7)

    with pytest.raises(SlackApiError) as exc_info:
        client.auth_test()

    assert exc_info.value.response.status_code == 429
    assert exc_info.value.response.headers["Retry-After"] == "7"
    assert api_error(exc_info) == "ratelimited"
    assert client.auth_test()["ok"] is True  # the fault was used up


def test_queued_faults_fail_calls_in_order(client: WebClient, standin: SlackStandIn) -> None:
    standin.fail_next("auth.test", error="internal_error", status=500)
    standin.fail_next("auth.test", error="fatal_error", status=500)

    errors = []
    for _ in range(2):
        with pytest.raises(SlackApiError) as exc_info:
            client.auth_test()
        errors.append(api_error(exc_info))

    assert errors == ["internal_error", "fatal_error"]
    assert client.auth_test()["ok"] is True


@pytest.mark.parametrize("token", ["xoxb-wrong", None])
def test_bad_or_missing_token_is_invalid_auth(standin: SlackStandIn, token: str | None) -> None:
    with pytest.raises(SlackApiError) as exc_info:
        WebClient(token=token, base_url=standin.base_url).chat_postMessage(channel="C1", text="hi")

    assert api_error(exc_info) == "invalid_auth"
    assert standin.messages("C1") == []
    assert standin.calls_to("chat.postMessage")[0].has_token is (token is not None)


def test_token_in_form_field_is_accepted(standin: SlackStandIn) -> None:
    answer = WebClient(base_url=standin.base_url).api_call("auth.test", params={"token": TOKEN})
    assert answer["ok"] is True


def test_unknown_method_is_answered_and_recorded(client: WebClient, standin: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as exc_info:
        client.api_call("chat.postMesage", json={"channel": "C1", "text": "typo"})

    assert api_error(exc_info) == "unknown_method"
    assert standin.calls_to("chat.postMesage")[0].args == {"channel": "C1", "text": "typo"}


def test_response_url_post_via_webhook_client(standin: SlackStandIn) -> None:
    url = standin.new_response_url()

    sent = WebhookClient(url).send(text="Quote: 120 credits", response_type="ephemeral")

    assert sent.status_code == 200
    [response] = standin.wait_for_response(url)
    assert response.payload == {"text": "Quote: 120 credits", "response_type": "ephemeral"}
    assert standin.wait_for_response() == [response]


def test_unknown_response_url_is_rejected(standin: SlackStandIn) -> None:
    sent = WebhookClient(f"{standin.root_url}/response/R999999").send(text="lost")

    assert sent.status_code == 404
    assert standin.responses == []


def test_wait_for_call_blocks_until_the_call_arrives(client: WebClient, standin: SlackStandIn) -> None:
    poster = threading.Timer(0.1, lambda: client.chat_postMessage(channel="C1", text="later"))
    poster.start()
    try:
        [call] = standin.wait_for_call("chat.postMessage", timeout=5)
    finally:
        poster.join()

    assert call.args["text"] == "later"


def test_concurrent_posts_are_all_recorded_with_unique_ts(standin: SlackStandIn) -> None:
    def post_ten(worker: int) -> None:
        client = WebClient(token=TOKEN, base_url=standin.base_url)
        for n in range(10):
            client.chat_postMessage(channel="C1", text=f"{worker}-{n}")

    workers = [threading.Thread(target=post_ten, args=(w,)) for w in range(8)]
    for worker in workers:
        worker.start()
    calls = standin.wait_for_call("chat.postMessage", count=80, timeout=10)
    for worker in workers:
        worker.join()

    assert len(calls) == 80
    assert len({m["ts"] for m in standin.messages("C1")}) == 80


def test_wait_timeout_lists_what_arrived(client: WebClient, standin: SlackStandIn) -> None:
    client.auth_test()

    with pytest.raises(TimeoutError, match=r"chat\.update, got 0; calls received: auth\.test"):
        standin.wait_for_call("chat.update", timeout=0.05)
    with pytest.raises(TimeoutError, match="got 0"):
        standin.wait_for_response(timeout=0.05)


def test_reset_clears_records_and_optionally_state(client: WebClient, standin: SlackStandIn) -> None:
    client.chat_postMessage(channel="C1", text="hello")
    standin.reset()
    assert standin.calls == []
    assert len(standin.messages("C1")) == 1

    standin.reset(state=True)
    assert standin.messages("C1") == []


def test_logs_hold_no_token_or_response_url(
    client: WebClient, standin: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.devtools")
    url = standin.new_response_url()
    client.auth_test()
    WebhookClient(url).send(text="hi")

    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot.devtools"))
    assert logged  # the stand-in did log something at DEBUG
    assert TOKEN not in logged
    assert url.rsplit("/", 1)[-1] not in logged


@pytest.mark.skipif(not spec_available(), reason="Slack's OpenAPI spec is not present under /work/shared")
def test_every_call_matches_the_published_spec(client: WebClient, standin: SlackStandIn) -> None:
    standin.add_user("U1", name="mira")
    client.auth_test()
    client.users_info(user="U1")
    posted = client.chat_postMessage(channel="C1", text="hi", blocks=[SECTION], metadata=METADATA)
    client.chat_postEphemeral(channel="C1", user="U1", text="psst")
    client.chat_update(channel="C1", ts=posted["ts"], text="edited")
    client.chat_getPermalink(channel="C1", message_ts=posted["ts"])
    client.conversations_info(channel="C1")
    client.conversations_history(channel="C1", limit=10, include_all_metadata=True)
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Quote"}, "blocks": []}
    opened = client.views_open(trigger_id="1.2.3", view=view)
    client.views_update(view_id=opened["view"]["id"], view=view)
    client.files_upload_v2(content=b"a,b\n1,2\n", filename="d.csv", title="Digest", channel="C1")

    methods = {call.method for call in standin.calls}
    assert len(methods) == 12
    problems = [p for c in standin.calls for p in check_call_against_spec(c.method, c.args, c.has_token)]
    assert problems == []


@pytest.mark.skipif(not spec_available(), reason="Slack's OpenAPI spec is not present under /work/shared")
def test_spec_check_reports_real_problems() -> None:
    assert check_call_against_spec("chat.postMessage", {"channel": "C1", "text": "x"}, has_token=True) == []
    assert check_call_against_spec("chat.postMesage", {}, has_token=True) == [
        "chat.postMesage: not a method in Slack's Web API description"
    ]
    missing = check_call_against_spec("chat.postEphemeral", {"channel": "C1", "text": "x"}, has_token=False)
    assert missing == [
        "chat.postEphemeral: required argument 'user' is missing",
        "chat.postEphemeral: requires a token and none was sent",
    ]
    [unknown] = check_call_against_spec("chat.update", {"channel": "C1", "ts": "1.0", "txt": "x"}, True)
    assert "'txt'" in unknown
