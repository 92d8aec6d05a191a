"""Bolt listeners, one module per handler; each module has ``register(app, deps)``."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.deps import Deps
from bot.slack.listeners import errors, middleware
from bot.slack.listeners.actions import approval
from bot.slack.listeners.commands import credits
from bot.slack.listeners.events import installation
from bot.slack.listeners.views import deny_reason


def register_all(app: App, deps: Deps) -> None:
    """Wire every middleware, listener and the error boundary onto the app."""
    middleware.register(app, deps)
    errors.register(app, deps)
    credits.register(app, deps)
    installation.register(app, deps)
    approval.register(app, deps)
    deny_reason.register(app, deps)
