"""Admin commands: they work for admins, are refused for others, and leave an audit trail."""

from __future__ import annotations

from sqlmodel import select

from bot.credits_file import CreditsConfig
from bot.devtools.slack_standin import SlackStandIn
from bot.store.db import Database
from bot.store.tables.workspace import AuditEntry
from tests.bot_harness import ALICE, BOB, CAROL, BotUnderTest, in_process_bot
from tests.conftest import Clock
from tests.slack.tasks_helpers import balance


def audit(bot: BotUnderTest) -> list[AuditEntry]:
    with bot.db.read() as session:
        return list(session.exec(select(AuditEntry).order_by(AuditEntry.id)).all())  # type: ignore[arg-type]


def test_non_admins_are_refused_and_nothing_changes(bot: BotUnderTest) -> None:
    for text in [
        "admin topup design 500",
        "admin role <@U0ALICE|alice> lead",
        "admin limit creator task=500",
        "admin team video C0VIDEO plan=pro",
    ]:
        reply = bot.command(text, user=BOB)
        assert "Only admins can" in reply.text and "@U0CAROL" in reply.text, text
    assert audit(bot) == []
    assert "Extra credits: 500 credits" in bot.command("balance").text


def test_topup_adds_extra_credits_once(bot: BotUnderTest) -> None:
    reply = bot.command("admin topup design 750 campaign budget", user=CAROL)
    assert "Added 750 extra credits to team design: 1,250 credits extra" in reply.text
    assert balance(bot).extra == 1250
    entry = audit(bot)[0]
    assert (entry.actor, entry.action, entry.target) == (CAROL, "topup", "design")
    assert entry.created_at is not None


def test_role_change_takes_effect_at_once(bot: BotUnderTest) -> None:
    bot.standin.add_user("U0DAN", name="dan")
    assert "not in any team" in bot.command("quote image", user="U0DAN").text
    reply = bot.command("admin role <@U0DAN|dan> creator", user=CAROL)
    assert "@U0DAN is now creator in team design" in reply.text
    assert "Your weekly limit left (creator)" in bot.command("quote image", user="U0DAN").text
    assert [e.action for e in audit(bot)] == ["role"]


def test_limit_change_changes_what_needs_approval(bot: BotUnderTest) -> None:
    assert "Needs approval" in bot.command("quote image quality=ultra variants=4").text
    reply = bot.command("admin limit creator task=100 week=none", user=CAROL)
    assert "Role creator: per task 100 credits, per week no limit" in reply.text
    quote = bot.command("quote image quality=ultra variants=4").text
    assert "Within your limits" in quote and "Your weekly limit left (creator): no limit" in quote
    assert "Admins have no limits" in bot.command("admin limit admin task=1", user=CAROL).text


def test_team_command_creates_a_team_with_its_channel(bot: BotUnderTest) -> None:
    reply = bot.command("admin team video <#C0VIDEO|video> plan=starter", user=CAROL)
    assert "Team video created: channel #C0VIDEO, plan starter" in reply.text
    bot.command("admin role <@U0BOB|bob> lead video", user=CAROL)
    text = bot.command("balance video", user=BOB).text
    assert "Plan credits left (starter, 1,000/month): 1,000 credits" in text
    assert (
        "already team design's channel" in bot.command("admin team video2 <#C0DESIGN|design> plan=pro", user=CAROL).text
    )
    assert "Did you mean pro?" in bot.command("admin team video <#C0VIDEO|video> plan=prro", user=CAROL).text


def test_a_new_team_cannot_take_another_teams_keter_labs_name(
    standin: SlackStandIn, database: Database, config: CreditsConfig, clock: Clock
) -> None:
    """Team design is "video" in Keter Labs' feed: a new team video would take its charges (and break the config)."""
    data = config.model_dump(mode="python")
    data["teams"]["design"]["keter_team"] = "video"
    bot = in_process_bot(standin, database, CreditsConfig.model_validate(data), clock)
    reply = bot.command("admin team video <#C0VIDEO|video> plan=starter", user=CAROL)
    assert "video is already the Keter Labs name of team design" in reply.text
    assert audit(bot) == []
    assert "Team video2 created" in bot.command("admin team video2 <#C0VIDEO|video> plan=starter", user=CAROL).text
    bot.finish_work()


def test_unknown_admin_action_suggests(bot: BotUnderTest) -> None:
    assert "Unknown admin command topop. Did you mean topup?" in bot.command("admin topop design 5", user=CAROL).text
    assert ALICE


def test_role_none_removes_a_member_and_members_says_where_roles_come_from(bot: BotUnderTest) -> None:
    listed = bot.command("admin members", user=CAROL).text
    assert "@U0ALICE: creator (credits file)" in listed and "@U0BOB: lead (credits file)" in listed
    bot.command("admin role <@U0DAN|dan> viewer design", user=CAROL)
    assert "@U0DAN: viewer (set by command)" in bot.command("admin members design", user=CAROL).text
    reply = bot.command("admin role <@U0ALICE|alice> none", user=CAROL)
    assert "@U0ALICE is no longer in team design" in reply.text
    assert "not in any team" in bot.command("balance", user=ALICE).text
    listed = bot.command("admin members", user=CAROL).text
    assert "U0ALICE: creator" not in listed and "Removed by command: @U0ALICE" in listed
    assert "nothing to remove" in bot.command("admin role <@U0ZED|zed> none", user=CAROL).text
    assert "Only admins can list members" in bot.command("admin members", user=BOB).text
    assert "Unknown team vidoe" in bot.command("admin members vidoe", user=CAROL).text


def test_team_command_sets_a_timezone(bot: BotUnderTest) -> None:
    reply = bot.command("admin team video <#C0VIDEO|video> plan=starter tz=europe/berlin", user=CAROL)
    assert "timezone Europe/Berlin" in reply.text
    assert "timezone Europe/Berlin" in bot.command("admin team video <#C0VIDEO|video>", user=CAROL).text
    assert "Did you mean Europe/Berlin?" in bot.command("admin team video C0VIDEO tz=Europe/Berlinn", user=CAROL).text
    assert "give its plan" in bot.command("admin team music C0MUSIC", user=CAROL).text


def test_tasks_lists_every_team_of_the_member_grouped_by_team(bot: BotUnderTest) -> None:
    bot.command("admin team video <#C0VIDEO|video> plan=pro", user=CAROL)
    bot.command("admin role <@U0ALICE|alice> creator video", user=CAROL)
    bot.command("run image", user=ALICE)
    bot.command("run image team=video", user=ALICE)
    text = bot.command("tasks", user=ALICE).text
    assert "Team design" in text and "Team video" in text
    assert text.index("Team design") < text.index("Team video")
    assert "Team video" not in bot.command("tasks team=design", user=ALICE).text


def test_setting_what_already_is_writes_no_audit_entry_and_says_so(bot: BotUnderTest) -> None:
    """The bug: ``admin role @alice creator`` for a creator wrote "before creator · after creator"."""
    reply = bot.command("admin role <@U0ALICE|alice> creator", user=CAROL)
    assert "@U0ALICE already is creator in team design; nothing changed" in reply.text
    assert "audit trail" not in reply.text
    reply = bot.command("admin limit creator task=50 week=300", user=CAROL)
    assert "Role creator already has per task 50 credits, per week 300 credits; nothing changed" in reply.text
    reply = bot.command("admin team design <#C0DESIGN|design> plan=pro tz=Europe/Berlin", user=CAROL)
    assert "Team design already has channel" in reply.text and "nothing changed" in reply.text
    assert audit(bot) == []
    assert "is now lead" in bot.command("admin role <@U0ALICE|alice> lead", user=CAROL).text
    assert [e.action for e in audit(bot)] == ["role"]
