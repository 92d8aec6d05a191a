"""The Slack half of each subcommand declaration: the handler that answers it.

``bot.domain.command_line.SUBCOMMANDS`` declares every subcommand (name, usage, example, audience,
parser); here each declaration gets its handler, keyed by the declaration itself: a handler for an
undeclared name, or a declaration without a handler, fails at import instead of in a user's face.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.domain.command_line import Invocation, Subcommand, every_subcommand, route, subcommand
from bot.domain.errors import UserFacingError
from bot.slack.answers.admin import (
    answer_admin_adjust,
    answer_admin_audit,
    answer_admin_budget,
    answer_admin_digest,
    answer_admin_help,
    answer_admin_limit,
    answer_admin_members,
    answer_admin_role,
    answer_admin_team,
    answer_admin_topup,
    answer_digest_preview,
)
from bot.slack.answers.history import answer_history
from bot.slack.answers.pending_approvals import answer_requests
from bot.slack.answers.pricing import answer_pricing
from bot.slack.answers.quoting import answer_balance, answer_help, answer_quote
from bot.slack.answers.tasks import answer_cancel, answer_done, answer_limits, answer_run, answer_tasks
from bot.slack.context import Reply, RequestContext

Handler = Callable[[RequestContext, Any], Reply]


HANDLERS: dict[Subcommand, Handler] = {
    subcommand("quote"): answer_quote,
    subcommand("run"): answer_run,
    subcommand("done"): answer_done,
    subcommand("cancel"): answer_cancel,
    subcommand("tasks"): answer_tasks,
    subcommand("balance"): answer_balance,
    subcommand("limits"): answer_limits,
    subcommand("requests"): answer_requests,
    subcommand("digest"): answer_digest_preview,
    subcommand("history"): answer_history,
    subcommand("admin"): answer_admin_help,
    subcommand("admin", "role"): answer_admin_role,
    subcommand("admin", "limit"): answer_admin_limit,
    subcommand("admin", "topup"): answer_admin_topup,
    subcommand("admin", "adjust"): answer_admin_adjust,
    subcommand("admin", "team"): answer_admin_team,
    subcommand("admin", "digest"): answer_admin_digest,
    subcommand("admin", "audit"): answer_admin_audit,
    subcommand("admin", "budget"): answer_admin_budget,
    subcommand("help"): answer_help,
    subcommand("admin", "members"): answer_admin_members,
    subcommand("pricing"): answer_pricing,
}
# Read-only subcommands: they write nothing and call no Slack method, so the listener answers them in
# the ack's own body (Slack shows it at once, no response_url round trip). The rest ack first.
ANSWERED_IN_ACK: frozenset[Subcommand] = frozenset(
    {
        subcommand("quote"),
        subcommand("tasks"),
        subcommand("balance"),
        subcommand("limits"),
        subcommand("admin"),
        subcommand("help"),
    }
)


@dataclass(frozen=True)
class CommandLine:
    """A ``/credits`` line parsed once, where the request enters (``CreditsApp.dispatch``).

    Either the subcommand it reached or the mistake that stopped it; every later step reads this.
    """

    text: str
    invocation: Invocation | None
    problem: UserFacingError | None = None

    @property
    def answered_in_ack(self) -> bool:
        """A read (or a line that does not parse: its answer is the mistake) is answered in the ack."""
        return self.invocation is None or self.invocation.subcommand in ANSWERED_IN_ACK


def parse_command_line(body: dict[str, Any]) -> CommandLine | None:
    """The request's ``/credits`` line, parsed; None for anything that is not a slash command."""
    if not isinstance(body.get("command"), str):
        return None
    text = str(body.get("text", ""))
    try:
        return CommandLine(text, route(text))
    except UserFacingError as problem:
        return CommandLine(text, None, problem)


_unanswered = [sub.usage for sub in every_subcommand() if sub not in HANDLERS]
if _unanswered:
    raise RuntimeError(f"subcommands declared without a handler: {', '.join(_unanswered)}")


def answer(ctx: RequestContext, invocation: Invocation) -> Reply:
    """Run the handler bound to the subcommand the command line reached."""
    return HANDLERS[invocation.subcommand](ctx, invocation.command)
