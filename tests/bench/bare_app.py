"""The floor for ``bench_quote.py``: a Bolt app whose ``/credits`` handler only acks.

It sits behind the same WSGI edge as the bot (``bot.web.SlackWsgiApp``), so whatever separates its
latency from keter-credits' is the bot's own middleware and listeners, not Bolt or gunicorn.
gunicorn loads it with ``tests.bench.bare_app:create()``; ``python -m tests.bench.bare_app PORT``
serves it with Bolt's own development server (``app.start()``) instead.
"""

from __future__ import annotations

import os
import sys

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.web import SlackWsgiApp


def build_bolt_app() -> App:
    """The bare app, configured from the same environment variables as the bot.

    Its WebClient points at ``SLACK_API_URL`` so the ``auth.test`` Bolt makes at start-up reaches
    the stand-in rather than Slack.
    """
    token = os.environ["SLACK_BOT_TOKEN"]
    client = WebClient(base_url=os.environ["SLACK_API_URL"], token=token)
    app = App(signing_secret=os.environ["SLACK_SIGNING_SECRET"], client=client)  # the token rides in the client

    floor_text = os.environ.get("BENCH_FLOOR_TEXT")  # bench_answers.py: an answer in the ack, like the bot's

    @app.command("/credits")
    def only_ack(ack: Ack) -> None:
        if floor_text:
            ack(response_type="ephemeral", text=floor_text)
        else:
            ack()

    return app


def create() -> SlackWsgiApp:
    """gunicorn's app factory: called once in each worker after the fork."""
    return SlackWsgiApp(build_bolt_app(), os.environ["SLACK_SIGNING_SECRET"])


if __name__ == "__main__":
    build_bolt_app().start(port=int(sys.argv[1]), path="/slack/events")
