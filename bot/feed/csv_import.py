"""``python -m bot import charges FILE.csv``: the same charges as the feed, from a file, through the same path.

The whole file is validated first; every bad line is reported with its number and reason, and with any
bad line nothing is imported unless ``--skip-bad``. Each charge id is written once, so re-importing a
file (or importing what the feed already delivered) changes nothing. A line whose charge id is already
recorded with other figures is skipped (the first figures stand), printed, and kept in the audit trail;
the rest is imported, and the exit status is then ``EXIT_CONFLICTS`` so a scheduled import is noticed.
So is a refund line refused (naming no recorded charge of its team, or more than it has left): printed
with the reason, kept in the audit trail, and recorded by a later import once its charge is in.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.credits_file import CreditsConfig
from bot.deps import Deps
from bot.domain.errors import UserFacingError
from bot.domain.keter_charges import BadLine, Charge, parse_csv
from bot.feed.webhook import EmailDirectory
from bot.jobs.digest_posting import Workspace
from bot.services.charges import recording as service
from bot.slack.outbound.announce import tell_charged_pending
from bot.slack.outbound.home_tabs import refresh_team_homes

EXIT_BAD_FILE = 1
EXIT_BAD_SETTINGS = 2
EXIT_CONFLICTS = 3
"""Imported, except charges already recorded with other figures: someone must look at them (re-importing
the same file gives the same answer, since the recorded figures stand until an admin corrects them)."""


def import_charges_file(deps: Deps, client: WebClient, *, path: Path, skip_bad: bool, out: TextIO | None = None) -> int:
    """Validate, then import; prints bad lines, per team new / known / matched / unplanned, and conflicts.

    ``deps`` and ``client`` are the process's (``bot.wiring``); the charges go to the client's workspace.
    """
    out = out or sys.stdout
    config, db = deps.config, deps.db
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"cannot read {path}: {exc}", file=out)
        return EXIT_BAD_FILE
    charges, bad = parse_csv(text)
    unknown = sorted({c.team for c in charges if c.team not in config.team_by_keter_name})
    if unknown:
        bad_teams = set(unknown)
        lines = _line_numbers(text, charges)
        bad += _unknown_team_lines(charges, lines, bad_teams, config)
        charges = [c for c in charges if c.team not in bad_teams]
    for line in sorted(bad, key=lambda b: b.line):
        print(f"line {line.line}: {line.reason}", file=out)
    if bad and not skip_bad:
        print(f"{len(bad)} bad line(s); nothing was imported (fix them, or pass --skip-bad)", file=out)
        return EXIT_BAD_FILE
    try:
        workspace_id = Workspace.of(client).id
        with db.read() as session:
            effective = deps.configs.get(session, workspace_id)
        report = service.record_charges(
            db,
            effective,
            workspace_id=workspace_id,
            charges=charges,
            now=deps.clock(),
            lookup=EmailDirectory(client).lookup,
        )
        _refresh_homes(deps, client, effective, workspace_id, report.changed)
        tell_charged_pending(deps, client, effective, report.charged_pending)
    except SlackApiError as exc:
        print(f"Slack refused the bot token ({exc.response.get('error')}); nothing was imported", file=out)
        return EXIT_BAD_SETTINGS
    except UserFacingError as exc:  # an unknown team, found before any write: nothing was imported
        print(f"{exc}; nothing was imported", file=out)
        return EXIT_BAD_FILE
    for team, counts in sorted(report.teams.items()):
        print(
            f"{team}: {counts.new:,} new, {counts.known:,} already known, "
            f"{counts.matched:,} matched to tasks, {counts.unplanned:,} unplanned",
            file=out,
        )
    if not report.teams:
        print("no charges in the file", file=out)
    numbers = _line_numbers(text, charges)
    for refusal in report.refused:
        print(f"line {numbers.get(refusal.id, 0)}: refund {refusal.id} refused: {refusal.reason}", file=out)
    if report.conflicts:
        for conflict in report.conflicts:
            print(
                f"line {numbers.get(conflict.id, 0)}: charge {conflict.id} skipped: already recorded with other "
                f"figures ({conflict.differs})",
                file=out,
            )
        print(
            f"{len(report.conflicts):,} conflict(s): the figures first recorded stand (see `/credits admin audit`); "
            "an admin corrects a real difference with `/credits admin adjust`",
            file=out,
        )
        return EXIT_CONFLICTS
    if report.refused:
        refused = len(report.refused)
        print(f"{refused:,} refund{'' if refused == 1 else 's'} refused (see `/credits admin audit`)", file=out)
        return EXIT_CONFLICTS
    return 0


def _refresh_homes(
    deps: Deps, client: WebClient, config: CreditsConfig, workspace_id: str, changed: dict[str, set[str]]
) -> None:
    """Republish the Home tabs the imported charges changed, now: this process exits when the import ends."""
    refresh_team_homes(deps, client, config, workspace_id, changed)
    deps.home_refresh.flush()  # each failure is logged there; the import stands whatever Slack says


def _line_numbers(text: str, charges: list[Charge]) -> dict[str, int]:
    """Each charge id's first line number (the header is line 1)."""
    import csv
    import io

    numbers: dict[str, int] = {}
    reader = csv.DictReader(io.StringIO(text))
    for row in reader:
        numbers.setdefault((row.get("id") or "").strip(), reader.line_num)
    return numbers


def _unknown_team_lines(
    charges: list[Charge], lines: dict[str, int], teams: set[str], config: CreditsConfig
) -> list[BadLine]:
    known = ", ".join(sorted(config.team_by_keter_name)) or "none"
    return [
        BadLine(lines.get(c.id, 0), f"unknown team '{c.team}' (known: {known})") for c in charges if c.team in teams
    ]
