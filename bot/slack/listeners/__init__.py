"""Bolt listeners: module-level functions, listed once here with what they listen to.

A listener names what it needs as arguments: Bolt's own (``ack``, ``body``, ``respond``, ``client``…)
or what ``middleware.ProvideDeps`` and ``middleware.load_config`` put in the context (``deps``,
``config``, ``workspace_id``, ``user_id``, ``channel_id``, ``request_key``, ``now``, or all of them as
one ``rc: RequestContext``). Each one is registered inside the one error boundary. Listener modules do
not import each other (only this registry imports them) and nothing here imports the store
(``tests/test_layering.py``); what they share lives in ``bot.slack`` (``answers`` and their
``registry``, ``flows``, ``outbound``, ``context``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal

from slack_bolt import App

from bot.deps import Deps
from bot.slack.ids import ActionId, CallbackId, FunctionId, ShortcutId, SlashCommand
from bot.slack.listeners import errors, middleware
from bot.slack.listeners.actions import approval, asks, audit, history, holds, home
from bot.slack.listeners.commands import credits
from bot.slack.listeners.events import home as home_events
from bot.slack.listeners.events import installation
from bot.slack.listeners.functions import workflow
from bot.slack.listeners.shortcuts import quote
from bot.slack.listeners.views import deny_reason, hold_finish, quote_form, raise_until
from bot.slack.outbound.pacing import PacedListenerClient, PacedWebClient

Kind = Literal["command", "action", "view", "event", "shortcut", "function"]

# A matcher is a name, or a pattern for a family of ids (one "Quote for <team>" button per team).
Matcher = str | re.Pattern[str]
HOME_QUOTE_BUTTONS = re.compile(rf"^{ActionId.HOME_QUOTE}(:.+)?$")

LISTENERS: tuple[tuple[Kind, Matcher, Callable[..., None]], ...] = (
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
    ("action", ActionId.HISTORY_MORE, history.handle_history_more_click),
    ("action", ActionId.ASK_LIMIT_RAISE, asks.handle_ask_limit_raise_click),
    ("action", ActionId.ASK_EXTRA_CREDITS, asks.handle_ask_extra_credits_click),
    ("action", ActionId.BOUGHT_CREDITS, asks.handle_bought_click),
    ("view", CallbackId.RAISE_UNTIL, raise_until.handle_raise_until_submission),
    ("event", "app_uninstalled", installation.handle_app_uninstalled),
    ("event", "tokens_revoked", installation.handle_tokens_revoked),
    ("event", "app_home_opened", home_events.handle_app_home_opened),
    ("action", HOME_QUOTE_BUTTONS, home.handle_home_quote_click),
    ("action", ActionId.HOME_DONE, home.handle_home_done_click),
    ("action", ActionId.HOME_CANCEL, home.handle_home_cancel_click),
    ("action", ActionId.QUOTE_TOOL, home.handle_quote_form_change),
    ("action", ActionId.QUOTE_FIELD, home.handle_quote_form_change),
    ("view", CallbackId.QUOTE_FORM, quote_form.handle_quote_form_submission),
    ("view", CallbackId.DONE_FORM, quote_form.handle_done_form_submission),
    ("shortcut", ShortcutId.QUOTE_TASK, quote.handle_quote_shortcut),
    ("function", FunctionId.QUOTE_TASK, workflow.handle_quote_step),
    ("function", FunctionId.REQUEST_CREDITS, workflow.handle_request_step),
)

# Listener middleware: runs in the request's thread before Bolt hands the listener to its pool.
LISTENER_MIDDLEWARE: dict[Callable[..., None], list[Callable[..., Any]]] = {
    credits.handle_credits_command: [credits.answer_reads_at_once],
}


def register_all(app: App, deps: Deps) -> None:
    """Wire the middleware, every listener inside the error boundary, and the app-wide error handler."""
    if isinstance(app.client, PacedWebClient):  # first: every later step and listener posts through it
        app.use(middleware.Direct(PacedListenerClient(app.client)))
    app.use(middleware.ProvideDeps(deps))
    app.use(middleware.Direct(middleware.load_config))
    app.use(middleware.Direct(installation.resume_if_reinstalled))
    app.error(errors.report_unhandled)
    kinds: dict[Kind, Callable[..., Callable[[Callable[..., Any]], Any]]] = {
        "command": app.command,
        "action": app.action,
        "view": app.view,
        "event": app.event,
        "shortcut": app.shortcut,
        "function": app.function,
    }
    for kind, matcher, listener in LISTENERS:
        before = [middleware.Direct(m) for m in LISTENER_MIDDLEWARE.get(listener, [])]
        kinds[kind](matcher, middleware=before)(errors.error_boundary(listener))
