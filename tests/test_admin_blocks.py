"""The Slack edge words what ``/credits admin`` changed or refused; the service only returns data."""

from __future__ import annotations

import pytest

from bot.domain.errors import UserFacingError
from bot.domain.ledger import Balance
from bot.services.admin.changes import ChannelTakenError, LimitsSet, RoleSet, TeamSet, ToppedUp
from bot.services.workspace.access import AdminOnlyError
from bot.slack.blocks.admin import change_text, recorded_blocks, refusal_text, refusals_in_words


def test_each_change_is_confirmed_with_its_mentions() -> None:
    assert change_text(RoleSet("U0ALICE", "design", "lead")) == "<@U0ALICE> is now *lead* in team design."
    assert change_text(LimitsSet("creator", 100, None)) == "Role *creator*: per task 100 credits, per week no limit."
    topped = ToppedUp("design", 750, Balance(plan=1000, extra=1250, held=50))
    assert change_text(topped) == (
        "Added 750 extra credits to team design: 1,250 credits extra, 2,200 credits available."
    )
    assert change_text(TeamSet("video", "C0VIDEO", "starter", created=True)) == (
        "Team video created: channel <#C0VIDEO>, plan starter, timezone UTC."
    )
    assert change_text(TeamSet("video", "C0VIDEO", "pro", created=False)).startswith("Team video updated:")
    assert recorded_blocks("done")[0].to_dict()["text"]["text"] == (
        ":white_check_mark: done (recorded in the audit trail)"
    )


def test_refusals_name_the_admins_and_the_channel() -> None:
    assert refusal_text(AdminOnlyError("change roles", ("U0CAROL", "U0DAN"))) == (
        "Only admins can change roles. Ask <@U0CAROL>, <@U0DAN>."
    )
    assert refusal_text(AdminOnlyError("change roles", ())) == (
        "Only admins can change roles. Ask a Slack workspace admin."
    )
    assert refusal_text(ChannelTakenError("C0DESIGN", "design")) == (
        "<#C0DESIGN> is already team design's channel; one team per channel."
    )


def test_a_wrapped_answer_raises_the_worded_refusal() -> None:
    @refusals_in_words
    def answer() -> str:
        raise AdminOnlyError("move digests", ("U0CAROL",))

    with pytest.raises(UserFacingError) as raised:
        answer()
    assert type(raised.value) is UserFacingError
    assert raised.value.message == "Only admins can move digests. Ask <@U0CAROL>."
