"""Times in the reader's own timezone: Slack date tokens whose fallback is the team's time, one date format."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.devtools.render import mrkdwn_to_text
from bot.slack.blocks.format import clock_time, day, on_day, when

BERLIN = ZoneInfo("Europe/Berlin")


def test_a_moment_is_a_date_token_with_the_team_time_as_fallback() -> None:
    moment = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    token = when(moment, BERLIN)
    assert token == f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|Wed 25 Nov 11:00>"
    assert mrkdwn_to_text(f"Expires {token}.") == "Expires Wed 25 Nov 11:00."


def test_a_calendar_day_is_a_date_token_starting_at_the_team_midnight() -> None:
    token = on_day(date(2026, 12, 1), BERLIN, date(2026, 11, 25))
    start = datetime(2026, 12, 1, tzinfo=BERLIN)
    assert token == f"<!date^{int(start.timestamp())}^{{date_short_pretty}}|Tue 1 Dec>"


def test_one_date_format_everywhere() -> None:
    assert day(date(2026, 11, 9)) == "Mon 9 Nov"
    assert clock_time(datetime(2026, 11, 9, 8, 5, tzinfo=UTC), BERLIN) == "Mon 9 Nov 09:05"
    assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2} [A-Z][a-z]{2}", day(date(2026, 11, 24)))
