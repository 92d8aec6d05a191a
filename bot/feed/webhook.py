"""``POST /keter/charges``: Keter Labs' signed charge feed, a small WSGI handler beside Bolt's.

Signed the Standard Webhooks way and verified with the ``standardwebhooks`` package: a bad or missing signature, or a
timestamp more than 5 minutes off, is a 401 and writes nothing; a body that is not a known delivery is a 400 with a
one-line reason (so is a charge for a team the credits file does not map, and then nothing is written; so is a
``webhook-id`` longer than the column keeps, or a text field with a NUL or another control character); a redelivered
``webhook-id`` (the same id and the same body) or a charge already recorded changes nothing and answers 200, so the
sender stops retrying; the same ``webhook-id`` with another body is a 409 (nothing of it recorded, kept in the audit
trail). A charge already recorded with other figures is skipped and listed in the 200's ``conflicts``: the delivery's
other charges are facts and are recorded (a 400 would make the sender retry a delivery that can never pass); so is a
refund that names no recorded charge of its team, or more than it has left, listed in ``refused`` with the reason.
Every charge goes through ``bot.services.charges.recording``, the same path as the CSV import. No stack trace ever
reaches the caller.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cachetools import TTLCache
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from standardwebhooks.webhooks import Webhook

from bot.deps import Deps
from bot.domain.errors import UserFacingError
from bot.domain.keter_charges import BadBodyError, BalanceUpdated, ChargesCreated, parse_delivery
from bot.jobs.digest_posting import Workspace
from bot.services.charges import reconciliation as keter_balances
from bot.services.charges import recording as service
from bot.slack.outbound.announce import tell_charged_pending
from bot.slack.outbound.home_tabs import refresh_team_homes
from bot.store.tables.keter import WEBHOOK_ID_LIMIT
from bot.web import RefusedError, json_reply, read_body

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

logger = logging.getLogger(__name__)

MAX_FEED_BODY_BYTES = 1_000_000  # a delivery carries a batch of charges: larger than any Slack payload
EMAIL_CACHE_SECONDS = 3600


class EmailDirectory:
    """``users.lookupByEmail``, cached an hour (a miss too), so a batch of charges asks Slack once per address."""

    def __init__(self, client: WebClient, ttl_seconds: float = EMAIL_CACHE_SECONDS) -> None:
        self.client = client
        self._cache: TTLCache[str, str | None] = TTLCache(maxsize=10_000, ttl=ttl_seconds)
        self._lock = threading.Lock()

    def lookup(self, email: str) -> str | None:
        """The Slack member with this e-mail address, None when Slack knows none."""
        with self._lock:
            if email in self._cache:
                return self._cache[email]
        try:
            user = self.client.users_lookupByEmail(email=email).get("user") or {}
            found: str | None = str(user["id"]) if user.get("id") else None
        except SlackApiError as exc:
            if exc.response.get("error") != "users_not_found":
                raise
            found = None
        with self._lock:
            self._cache[email] = found
        return found


class FeedEndpoint:
    """The feed's WSGI handler: verify, parse, record; answers JSON."""

    def __init__(self, *, secret: str, deps: Deps, client: WebClient, refresh_homes: bool = True) -> None:
        """``deps``: the process's; ``refresh_homes``: redraw the Home tabs a charge changes (debounced)."""
        self.webhook = Webhook(secret)
        self.deps, self.client, self.refresh_homes = deps, client, refresh_homes
        self.db = deps.db
        self.emails = EmailDirectory(client)
        self._workspace: Workspace | None = None

    @property
    def workspace_id(self) -> str:
        """The bot token's workspace (``auth.test``, asked once): where the charges are recorded."""
        if self._workspace is None:
            self._workspace = Workspace.of(self.client)
        return self._workspace.id

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            status, payload = self.handle(environ)
        except Exception:
            logger.exception("the charge feed failed; the sender will retry")
            status, payload = "500 Internal Server Error", {"error": "internal error; retry later"}
        return json_reply(start_response, status, payload)

    def handle(self, environ: WSGIEnvironment) -> tuple[str, dict[str, Any]]:
        """Status and JSON answer for one delivery."""
        try:
            body = read_body(environ, MAX_FEED_BODY_BYTES)
        except RefusedError as refusal:
            return refusal.status, {"error": refusal.reason}
        headers = {
            name: str(environ.get(f"HTTP_{name.upper().replace('-', '_')}", ""))
            for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
        }
        try:
            self.webhook.verify(body, headers, json_parse=False)
        except Exception:  # any malformed header or signature is the same 401, and nothing is read further
            return "401 Unauthorized", {"error": "invalid signature"}
        webhook_id, now = headers["webhook-id"], self.deps.clock()
        if len(webhook_id) > WEBHOOK_ID_LIMIT:  # checked before any write: it could never be remembered
            return "400 Bad Request", {"error": f"webhook-id is longer than {WEBHOOK_ID_LIMIT} characters"}
        try:
            delivery = parse_delivery(body)
        except BadBodyError as exc:
            return "400 Bad Request", {"error": str(exc)}
        state = service.delivery_state(self.db, webhook_id=webhook_id, body=body)
        if state == "redelivered":
            return "200 OK", {"ok": True, "redelivered": True}
        if state == "reused":
            self._audit_reused(delivery, webhook_id, now)
            return "409 Conflict", {
                "error": "this webhook-id was already used for a delivery with another body; "
                "nothing of this one was recorded (send it under a new webhook-id)"
            }
        try:
            answer = self._record(delivery, now)
        except UserFacingError as exc:  # an unknown team: checked before any write, so nothing was written
            return "400 Bad Request", {"error": str(exc)}
        service.mark_delivery(self.db, webhook_id=webhook_id, body=body, now=now)
        return answer

    def _audit_reused(self, delivery: ChargesCreated | BalanceUpdated, webhook_id: str, now: datetime) -> None:
        """Keep a reused ``webhook-id`` in the audit trail, under the delivery's team (else the first team)."""
        workspace_id = self.workspace_id
        with self.db.read() as session:
            config = self.deps.configs.get(session, workspace_id)
        named = delivery.data.charges[0].team if isinstance(delivery, ChargesCreated) else delivery.data.team
        team = config.team_by_keter_name.get(named) or next(iter(config.teams), "")
        service.record_reused_delivery(self.db, workspace_id=workspace_id, team=team, webhook_id=webhook_id, now=now)

    def _record(self, delivery: Any, now: datetime) -> tuple[str, dict[str, Any]]:
        workspace_id = self.workspace_id
        with self.db.read() as session:
            config = self.deps.configs.get(session, workspace_id)
        if isinstance(delivery, ChargesCreated):
            report = service.record_charges(
                self.db,
                config,
                workspace_id=workspace_id,
                charges=delivery.data.charges,
                now=now,
                lookup=self.emails.lookup,
            )
            if self.refresh_homes:  # debounced: published a moment after the answer
                refresh_team_homes(self.deps, self.client, config, workspace_id, report.changed)
            tell_charged_pending(self.deps, self.client, config, report.charged_pending)
            teams = {team: vars(counts) for team, counts in report.teams.items()}
            conflicts = [{"id": c.id, "team": c.team, "differs": c.differs} for c in report.conflicts]
            refused = [{"id": r.id, "team": r.team, "reason": r.reason} for r in report.refused]
            return "200 OK", {"ok": True, "teams": teams, "conflicts": conflicts, "refused": refused}
        seen = keter_balances.record_keter_balance(
            self.db, config, workspace_id=workspace_id, data=delivery.data, now=now
        )
        return "200 OK", {"ok": True, "team": seen.team, "difference": seen.difference}
