"""``/credits``: a read answered in the ack, a write after it; the line was parsed once, at the door.

``CreditsApp.dispatch`` parses the line (``registry.parse_command_line``) and puts it in the context as
``command_line``. ``answer_reads_at_once`` (listener middleware) answers a read in the request's own
thread and returns the reply as the HTTP response: Bolt's listener runner would hand it to its pool and
poll for the ack every 10 ms, a cost that showed in the profile under load. Only writes go on to
``handle_credits_command``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, BoltResponse, Respond
from slack_sdk import WebClient

from bot.domain.errors import UserFacingError
from bot.slack.answers.registry import CommandLine, answer
from bot.slack.blocks.errors import user_error_blocks, user_error_text
from bot.slack.context import Reply, RequestContext
from bot.slack.flows.internal_errors import internal_error_reply
from bot.slack.outbound.home_tabs import concerned, refresh_homes


def handle_credits_command(
    ack: Ack, respond: Respond, client: WebClient, rc: RequestContext, command_line: CommandLine
) -> None:
    """A subcommand that writes or calls Slack: ack at once, answer through ``response_url``.

    Reads and lines that do not parse never get here: ``answer_reads_at_once`` answered them in the ack.
    Errors go to the boundary, which answers through ``response_url``.
    """
    ack()
    invocation = command_line.invocation
    assert invocation is not None  # a line that does not parse is answered in the ack
    reply = answer(rc, invocation)
    respond(response_type="ephemeral", text=reply.text, blocks=reply.blocks)
    if invocation.subcommand.name in CHANGES_BALANCES:  # a hold, a charge or a top-up: redraw Home tabs
        team = getattr(invocation.command, "team", None) or _team_of(invocation.command, rc)
        if team:
            refresh_homes(rc.deps, client, rc.config, rc.workspace_id, concerned(rc.config, team, rc.user_id))


def answer_reads_at_once(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
    """A read, or a line that does not parse, answered here: its reply is the ack's body; the rest go on.

    The one place a read is answered: a mistake is shown as what to fix, anything unexpected as the
    boundary's "something went wrong (ref …)" with the traceback logged, never a second answer later.
    """
    command_line: CommandLine = context["command_line"]
    if not command_line.answered_in_ack:
        return next()
    rc: RequestContext = context["rc"]
    try:
        if command_line.invocation is None:
            assert command_line.problem is not None
            raise command_line.problem
        reply = answer(rc, command_line.invocation)
    except UserFacingError as problem:
        message = user_error_text(problem)
        reply = Reply(message, user_error_blocks(message))
    except Exception as error:
        reply = internal_error_reply(error, "command")
    blocks = [block.to_dict() for block in reply.blocks]
    return BoltResponse(status=200, body={"response_type": "ephemeral", "text": reply.text, "blocks": blocks})


CHANGES_BALANCES = frozenset({"run", "done", "cancel", "topup", "adjust"})


def _team_of(command: Any, rc: RequestContext) -> str | None:
    request = getattr(command, "request", None)
    if request is not None and request.team:
        return str(request.team)
    try:
        return rc.member().team
    except Exception:  # no single team to redraw: the tabs refresh when opened
        return None
