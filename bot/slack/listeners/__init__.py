"""Bolt listeners: module-level functions, listed once here with what they listen to.

A listener names what it needs as arguments: Bolt's own (``ack``, ``body``, ``respond``, ``client``…)
or what ``middleware.ProvideDeps`` and ``middleware.load_config`` put in the context (``deps``,
``config``, ``workspace_id``, ``user_id``, ``channel_id``, ``request_key``, ``now``). Each one is
registered inside the one error boundary. Listener modules do not import each other; what they share
lives in ``bot.slack`` (``answers``, ``decisions``, ``requests``, ``subcommands``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from slack_bolt import App

from bot.slack.deps import Deps
from bot.slack.ids import ActionId, CallbackId, SlashCommand
from bot.slack.listeners import errors, middleware
from bot.slack.listeners.actions import approval, asks, audit, holds
from bot.slack.listeners.commands import credits
from bot.slack.listeners.events import installation
from bot.slack.listeners.views import deny_reason, hold_finish, raise_until

Kind = Literal["command", "action", "view", "event"]

LISTENERS: tuple[tuple[Kind, str, Callable[..., None]], ...] = (
    ("command", SlashCommand.CREDITS, credits.handle_credits_command),
    ("action", ActionId.APPROVE, approval.handle_approve_click),
    ("action", ActionId.DENY, approval.handle_deny_click),
    ("action", ActionId.RUN_AGAIN, approval.handle_run_again_click),
    ("view", CallbackId.DENY_REASON, deny_reason.handle_deny_submission),
    ("action", ActionId.HOLD_DONE, holds.handle_hold_done_click),
    ("action", ActionId.HOLD_COST, holds.handle_hold_cost_click),
    ("action", ActionId.HOLD_CANCEL, holds.handle_hold_cancel_click),
    ("view", CallbackId.HOLD_FINISH, hold_finish.handle_hold_finish_submission),
    ("action", ActionId.AUDIT_MORE, audit.handle_audit_more_click),
    ("action", ActionId.ASK_LIMIT_RAISE, asks.handle_ask_limit_raise_click),
    ("action", ActionId.ASK_EXTRA_CREDITS, asks.handle_ask_extra_credits_click),
    ("action", ActionId.BOUGHT_CREDITS, asks.handle_bought_click),
    ("view", CallbackId.RAISE_UNTIL, raise_until.handle_raise_until_submission),
    ("event", "app_uninstalled", installation.handle_app_uninstalled),
    ("event", "tokens_revoked", installation.handle_tokens_revoked),
)


def register_all(app: App, deps: Deps) -> None:
    """Wire the middleware, every listener inside the error boundary, and the app-wide error handler."""
    app.use(middleware.ProvideDeps(deps))
    app.use(middleware.reject_replays)
    app.use(middleware.load_config)
    app.error(errors.report_unhandled)
    kinds: dict[Kind, Callable[[str], Callable[[Callable[..., Any]], Any]]] = {
        "command": app.command,
        "action": app.action,
        "view": app.view,
        "event": app.event,
    }
    for kind, matcher, listener in LISTENERS:
        kinds[kind](matcher)(errors.error_boundary(listener))
