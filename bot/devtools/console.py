"""The local console: try the bot with no Slack workspace at all.

It drives the same Bolt app through the same signed-request path (real HTTP on 127.0.0.1) and the
built-in Slack Web API stand-in, so what works here works in Slack. Lines are read from standard
input, so it can be scripted: ``printf '/credits help\\n' | python -m bot``. Unless DATABASE_URL is set
it uses a throwaway SQLite database, so trying a pricing file never touches the real ledger.
"""

from __future__ import annotations

import json
import re
import secrets
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, TextIO

from pydantic import SecretStr
from slack_sdk import WebClient
from sqlmodel import col, select

from bot.app import make_client
from bot.credits_file import CreditsConfig
from bot.deps import utc_now
from bot.devtools.http_server import BackgroundServer
from bot.devtools.render import render_blocks
from bot.devtools.signing import (
    block_action_payload,
    signed_interaction,
    signed_slash_command,
    view_submission_payload,
)
from bot.devtools.slack_standin import SlackStandIn
from bot.jobs.approval_sweep import sweep_approvals
from bot.settings import DEFAULT_DATABASE_URL, Settings
from bot.slack.ids import ActionId
from bot.slack.outbound.pacing import Pacer
from bot.store.db import Database
from bot.store.tables.tasks import Approval, Task
from bot.web import EVENTS_PATH
from bot.wiring import Process, build_process

CONSOLE_TOKEN = "xoxb-console"  # noqa: S105 - the stand-in's own token, never a real one
REPLY_TIMEOUT_SECONDS = 10.0
SETTLE_SECONDS = 0.3
PROMPT_HELP = (
    "Type `/credits ...`, or `as <USER_ID> /credits ...` to act as another member; `as U0BOB approve` or "
    "`as U0BOB deny <reason>` clicks that button on the newest approval request (`approve #3`: task 3's), "
    'and `again` clicks "Start a second task". Ctrl-D ends.'
)
TASK_NUMBER = re.compile(r"#?(\d{1,9})")


def _default_user(config: CreditsConfig) -> str:
    for team in config.teams.values():
        for user in team.members:
            return user
    return "U0CONSOLE"


def _channel_of(config: CreditsConfig, user: str) -> str:
    for team in config.teams.values():
        if user in team.members:
            return team.channel
    return next((t.channel for t in config.teams.values()), "C0CONSOLE")


class Console:
    """A scripted or interactive session against the real app and the stand-in."""

    def __init__(self, settings: Settings, config: CreditsConfig, out: TextIO | None = None) -> None:
        self.config = config
        self.out = out if out is not None else sys.stdout  # read at call time, so a redirected stdout is used
        self.signing_secret = secrets.token_hex(16)
        self.standin = SlackStandIn(bot_token=CONSOLE_TOKEN)
        self._tmp = tempfile.TemporaryDirectory(prefix="keter-console-")
        self.process: Process | None = None
        url = settings.database_url
        self.throwaway_db = url == DEFAULT_DATABASE_URL
        if self.throwaway_db:
            url = f"sqlite:///{Path(self._tmp.name) / 'console.db'}"
        self.db = Database(url)
        self.user = _default_user(config)
        self._settings = settings.model_copy(update={"slack_api_url": "http://127.0.0.1/"})
        self.server: BackgroundServer | None = None

    def start(self) -> None:
        """Start the stand-in, migrate the database, build the app and serve it."""
        self.standin.start()
        for team in self.config.teams.values():
            for user in team.members:
                self.standin.add_user(user, name=user.lower(), tz=team.timezone)
        self.db.upgrade()
        with self.db.read() as session:  # requests posted in an earlier session over the same database
            for approval in session.exec(select(Approval).where(col(Approval.message_ts).is_not(None))):
                if approval.channel_id and approval.message_ts:
                    self.standin.restore_message(approval.channel_id, approval.message_ts, "(an earlier request)")
        settings = self._settings.model_copy(
            update={
                "slack_api_url": self.standin.base_url,
                "slack_bot_token": SecretStr(CONSOLE_TOKEN),
                "slack_signing_secret": SecretStr(self.signing_secret),
            }
        )
        # The stand-in on 127.0.0.1 has no rate limit; pacing its posts would only make answers arrive
        # after the console has shown what happened (the pacing itself is tested, see bot/slack/outbound/pacing.py).
        client = make_client(settings)
        client.pacer = Pacer(interval=0.0)
        self.process = build_process(settings, self.config, db=self.db, client=client)
        self.server = BackgroundServer(self.process.web()).start()
        self._client = WebClient(token=CONSOLE_TOKEN, base_url=self.standin.base_url)

    def stop(self) -> None:
        """Stop serving and clean up the throwaway database."""
        if self.server:
            self.server.stop()
        if self.process is not None:  # pending Home tab refreshes run now, while the database is there
            self.process.deps.close()
        self.standin.stop()
        self.db.dispose()
        self._tmp.cleanup()

    def banner(self) -> str:
        """What the console is and how to use it."""
        where = "a throwaway SQLite database" if self.throwaway_db else "DATABASE_URL"
        teams = ", ".join(f"{name} ({len(t.members)} members)" for name, t in self.config.teams.items())
        return (
            f"keter-credits local console: no Slack credentials set, so replies are shown here.\n"
            f"Teams: {teams or 'none'}. Ledger: {where}. You are {self.user}.\n{PROMPT_HELP}"
        )

    def run_line(self, line: str) -> str:
        """Send one typed line as Slack would (a slash command, or a button click) and return what it showed."""
        line = line.strip()
        if not line or line.startswith("#"):
            return ""
        swept = self._sweep()
        user = self.user
        if line.lower().startswith("as "):
            _, user, line = [*line.split(None, 2), "", ""][:3]
            user = user.upper()
        word, _, rest = line.partition(" ")
        if word.lower() in ("approve", "deny"):
            return swept + self._click_request(user, word.lower(), rest.strip())
        if word.lower() == "again":
            return swept + self._click_run_again(user)
        if not line.startswith("/credits"):
            return swept + f"(not a command) {PROMPT_HELP}"
        response_url = self.standin.new_response_url()
        body, headers = signed_slash_command(
            self.signing_secret,
            text=line[len("/credits") :].strip(),
            user_id=user,
            channel_id=_channel_of(self.config, user),
            response_url=response_url,
        )
        return swept + self._send(body, headers, response_url)

    def _sweep(self) -> str:
        """Expire due approval requests, as the schedule does every minute in production; what it posted."""
        seen = len(self.standin.calls)
        assert self.process is not None
        if not sweep_approvals(self.process.deps, self._client, utc_now()):
            return ""
        time.sleep(SETTLE_SECONDS)
        return "\n".join(self._shown_calls(seen)) + "\n"

    def _send(self, body: str, headers: dict[str, str], response_url: str | None) -> str:
        """POST a signed request, then show the reply and whatever the bot posted or updated meanwhile."""
        assert self.server is not None
        seen = len(self.standin.calls)
        request = urllib.request.Request(  # noqa: S310 - our own http://127.0.0.1 server
            self.server.url + EVENTS_PATH, data=body.encode(), headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=REPLY_TIMEOUT_SECONDS) as answer:  # noqa: S310
                ack_body = answer.read().decode()
        except urllib.error.HTTPError as exc:
            return f"(the app answered HTTP {exc.code})"
        shown = _message_in_ack(ack_body)
        if shown is not None:  # a read is answered in the ack's own body, as Slack would show it
            parts = [render_blocks(shown.get("blocks") or [], str(shown.get("text", "")))]
            response_url = None
        else:
            parts = [ack_body] if ack_body.strip() else []
        if response_url is not None:
            try:
                reply = self.standin.wait_for_response(response_url, timeout=REPLY_TIMEOUT_SECONDS)[0]
                parts.append(render_blocks(reply.payload.get("blocks") or [], reply.payload.get("text", "")))
            except TimeoutError:
                parts.append("(no reply)")
        time.sleep(SETTLE_SECONDS)  # work done after the ack (a thread reply, a message update) lands here
        parts += self._shown_calls(seen)
        return "\n".join(parts)

    def _shown_calls(self, seen: int) -> list[str]:
        """The messages the bot posted, updated or opened since call number ``seen``, rendered."""
        parts = []
        for call in self.standin.calls[seen:]:
            where = call.args.get("channel")
            label = {
                "chat.postMessage": "posted in",
                "chat.update": "updated in",
                "chat.postEphemeral": "only you see, in",
                "views.open": "a form opens",
            }.get(call.method)
            if label is None:
                continue
            if call.args.get("thread_ts"):
                label = "replied in the thread, in"
            content = (
                call.args.get("view", {}).get("blocks") if call.method == "views.open" else call.args.get("blocks")
            )
            parts.append(
                f"[{label} {where or ''}]".replace(" ]", "]")
                + "\n"
                + render_blocks(content or [], call.args.get("text", ""))
            )
        return parts

    def _find_request(self, user: str, number: int | None) -> Approval | None:
        """The newest approval request (of task ``number``, preferring the user's teams), from the database.

        Read from the database rather than from this session's messages, so a request posted in an
        earlier session (with ``DATABASE_URL`` set) can be clicked too.
        """
        mine = [name for name, team in self.config.teams.items() if user in team.members]
        with self.db.read() as session:
            statement = select(Approval).order_by(col(Approval.id).desc())
            if number is not None:
                statement = statement.join(Task, col(Task.id) == col(Approval.task_id)).where(Task.number == number)
            found = list(session.exec(statement).all())
        found.sort(key=lambda approval: approval.team not in mine)  # stable: newest first within each group
        return found[0] if found else None

    def _click_request(self, user: str, action: str, rest: str) -> str:
        """``approve [#task]`` / ``deny [#task] [reason]``: click that button on the request."""
        first, _, reason = rest.partition(" ")
        match = TASK_NUMBER.fullmatch(first)
        if match is None:
            reason = rest
        approval = self._find_request(user, int(match.group(1)) if match else None)
        if approval is None:
            which = f"for task #{match.group(1)}" if match else "yet"
            return f"(no approval request has been posted {which})"
        return self._click(user, action, approval, reason.strip())

    def _click_run_again(self, user: str) -> str:
        """``again``: click "Start a second task" on the newest "did you mean a second task?" reply."""
        for reply in reversed(self.standin.responses):
            for block in reply.payload.get("blocks") or []:
                for element in block.get("elements", []):
                    if element.get("action_id") == ActionId.RUN_AGAIN:
                        response_url = self.standin.new_response_url()
                        payload = block_action_payload(
                            action_id=ActionId.RUN_AGAIN,
                            value=str(element["value"]),
                            user_id=user,
                            channel_id=_channel_of(self.config, user),
                            message_ts="",
                            response_url=response_url,
                        )
                        return self._send(*signed_interaction(self.signing_secret, payload), response_url)
        return '(no "Start a second task" button has been shown yet: type the same `/credits run` twice)'

    def _click(self, user: str, action: str, approval: Approval, reason: str) -> str:
        response_url = self.standin.new_response_url()
        channel = approval.channel_id or self.config.teams[approval.team].channel
        payload = block_action_payload(
            action_id=f"approval_{action}",
            value=str(approval.id),
            user_id=user,
            channel_id=channel,
            message_ts=approval.message_ts or "",
            response_url=response_url,
        )
        opened = len(self.standin.calls_to("views.open"))
        shown = self._send(*signed_interaction(self.signing_secret, payload), None)
        forms = self.standin.calls_to("views.open")[opened:]
        if action == "deny" and forms:
            view = forms[-1].args["view"]
            values: dict[str, object] = {
                "deny_reason_input": {"reason": {"type": "plain_text_input", "value": reason or None}}
            }
            submission = view_submission_payload(
                callback_id=view["callback_id"], private_metadata=view["private_metadata"], values=values, user_id=user
            )
            shown += "\n" + self._send(*signed_interaction(self.signing_secret, submission), None)
        ephemeral = [r for r in self.standin.responses if r.url == response_url]
        for reply in ephemeral:
            shown = (
                shown.rstrip("\n")
                + "\n[only you see]\n"
                + render_blocks(reply.payload.get("blocks") or [], reply.payload.get("text", ""))
            )
        return shown

    def loop(self, lines: TextIO) -> None:
        """Read commands until the end of input, printing each answer; an unreadable line is named and skipped."""
        interactive = lines.isatty()
        print(self.banner(), file=self.out, flush=True)
        number = 0
        while True:
            if interactive:
                print(f"{self.user}> ", end="", file=self.out, flush=True)
            number += 1
            try:
                line = read_line(lines)
            except UnicodeDecodeError as exc:
                print(f"line {number} is not valid UTF-8 text (byte {exc.start + 1}); skipped it\n", file=self.out)
                continue
            if not line:
                break
            if not interactive and line.strip():
                print(f"> {line.strip()}", file=self.out)
            answer = self.run_line(line)
            if answer:
                print(answer + "\n", file=self.out, flush=True)


def read_line(lines: TextIO) -> str:
    """One line, decoded on its own: a line that is not UTF-8 raises, and the next line still reads.

    A text stream decodes ahead in chunks, so one bad byte would lose the rest of the script; the
    bytes underneath (``sys.stdin.buffer``) are read a line at a time instead when there are any.
    """
    raw = getattr(lines, "buffer", None)
    if raw is None:
        return lines.readline()
    data: bytes = raw.readline()
    return data.decode("utf-8")


def run_console(settings: Settings, config: CreditsConfig, lines: TextIO | None = None) -> None:
    """Start, loop over the input, stop."""
    console = Console(settings, config)
    console.start()
    try:
        console.loop(lines if lines is not None else sys.stdin)
    finally:
        console.stop()


def _message_in_ack(ack_body: str) -> dict[str, Any] | None:
    """The message an ack's body carries (text or blocks), or None for an empty or other ack."""
    if not ack_body.startswith("{"):
        return None
    try:
        payload = json.loads(ack_body)
    except ValueError:
        return None
    return payload if isinstance(payload, dict) and (payload.get("text") or payload.get("blocks")) else None
