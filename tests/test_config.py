"""The credits file: the shipped default, the documented shape, and errors that name the bad key."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.credits_file import ConfigError, CreditsConfig, DigestSchedule, default_config_text, load_config, parse_config

SPEC_YAML = """\
pricing:
  retry_cost: 1.0
  expected_retry_rate: 0.25
  tools:
    image:   {unit: variant, rates: {draft: 1, standard: 4, high: 8, ultra: 16}}
    video:   {unit: second,  rates: {draft: 2, standard: 6, high: 12}, minimum: 12}
    upscale: {unit: variant, rates: {standard: 2, high: 4}}
    voice:   {unit: minute,  rates: {standard: 10, high: 20}}
plans:
  starter: {monthly_credits: 1000}
  pro:     {monthly_credits: 5000}
roles:
  viewer:  {task_limit: 0,   weekly_limit: 0}
  creator: {task_limit: 50,  weekly_limit: 300}
  lead:    {task_limit: 500, weekly_limit: 2000, can_approve_up_to: 2000}
  admin:   {}
teams:
  design:
    channel: C0DESIGN
    plan: pro
    renews_on_day: 1
    timezone: Europe/Berlin
    digest: "mon 09:00"
    extra_credits: 500
    members: {U0ALICE: creator, U0BOB: lead, U0CAROL: admin}
"""


def config_error(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    return str(caught.value)


def edited(old: str, new: str) -> str:
    assert old in SPEC_YAML, old
    return SPEC_YAML.replace(old, new, 1)


# --- what parses ---------------------------------------------------------------------------------


def test_shipped_default_loads() -> None:
    config = load_config(None)
    assert isinstance(config, CreditsConfig)
    assert set(config.pricing.tools) == {"image", "video", "upscale", "voice"}
    assert "admin" in config.roles
    assert config.teams["design"].plan in config.plans


def test_shipped_default_matches_the_spec_shape() -> None:
    assert parse_config(default_config_text()) == parse_config(SPEC_YAML)


def test_spec_yaml_parses() -> None:
    config = parse_config(SPEC_YAML)
    pricing = config.pricing
    assert pricing.retry_cost == 1.0
    assert pricing.expected_retry_rate == 0.25
    assert pricing.history_min_tasks == 10  # default
    assert pricing.tools["image"].rates == {"draft": 1, "standard": 4, "high": 8, "ultra": 16}
    assert pricing.tools["image"].unit == "variant"
    assert not pricing.tools["image"].time_based
    assert pricing.tools["image"].minimum == 0
    assert pricing.tools["video"].minimum == 12
    assert pricing.tools["video"].time_based
    assert pricing.tools["voice"].unit == "minute"
    assert pricing.tools["upscale"].default_quality == "standard"
    assert config.plans["pro"].monthly_credits == 5000
    assert config.plans["starter"].monthly_credits == 1000
    assert config.roles["creator"].task_limit == 50
    assert config.roles["creator"].weekly_limit == 300
    assert config.roles["lead"].can_approve_up_to == 2000
    assert config.roles["admin"].task_limit is None
    team = config.teams["design"]
    assert team.channel == "C0DESIGN"
    assert team.plan == "pro"
    assert team.renews_on_day == 1
    assert team.zone == ZoneInfo("Europe/Berlin")
    assert team.digest_schedule == DigestSchedule(weekday=0, hour=9, minute=0)
    assert team.extra_credits == 500
    assert team.members == {"U0ALICE": "creator", "U0BOB": "lead", "U0CAROL": "admin"}
    assert config.team_by_channel == {"C0DESIGN": "design"}


def test_teams_may_be_left_out() -> None:
    text = SPEC_YAML.split("teams:")[0]
    config = parse_config(text)
    assert config.teams == {}


def test_team_defaults() -> None:
    config = parse_config(SPEC_YAML.split("teams:")[0] + "teams:\n  brand: {channel: C0BRAND, plan: starter}\n")
    team = config.teams["brand"]
    assert (team.renews_on_day, team.timezone, team.digest, team.extra_credits) == (1, "UTC", "mon 09:00", 0)
    assert team.members == {}


# --- errors name the path of the bad key ---------------------------------------------------------


def test_unknown_key_names_its_path() -> None:
    message = config_error(edited("creator: {task_limit: 50", "creator: {task_limt: 50"))
    assert "roles.creator.task_limt: unknown key" in message


def test_unknown_top_level_key() -> None:
    assert "tems: unknown key" in config_error(SPEC_YAML + "tems: {}\n")


def test_unknown_plan_of_a_team() -> None:
    message = config_error(edited("plan: pro", "plan: prp"))
    assert "teams.design.plan: unknown plan 'prp'" in message
    assert "starter, pro" in message


def test_unknown_role_of_a_member() -> None:
    message = config_error(edited("U0ALICE: creator", "U0ALICE: creater"))
    assert "teams.design.members.U0ALICE: unknown role 'creater'" in message


def test_bad_timezone() -> None:
    message = config_error(edited("Europe/Berlin", "Europe/Berln"))
    assert "teams.design.timezone: unknown timezone 'Europe/Berln'" in message
    assert "IANA" in message


@pytest.mark.parametrize("digest", ["someday 09:00", "mon", "mon 9", "mon 24:00", "mon 09:60"])
def test_bad_digest_schedule(digest: str) -> None:
    message = config_error(edited('"mon 09:00"', f'"{digest}"'))
    assert f"teams.design.digest: '{digest}'" in message


def test_missing_admin_role() -> None:
    message = config_error(edited("  admin:   {}\n", ""))
    assert "roles: an 'admin' role is required" in message


def test_tool_whose_rates_lack_its_default_quality() -> None:
    message = config_error(edited("rates: {standard: 2, high: 4}", "rates: {fast: 2, high: 4}"))
    assert "pricing.tools.upscale: default_quality 'standard' has no rate" in message
    assert "fast, high" in message


def test_default_quality_can_be_set_to_a_priced_one() -> None:
    text = edited("rates: {standard: 2, high: 4}}", "rates: {fast: 2, high: 4}, default_quality: fast}")
    assert parse_config(text).pricing.tools["upscale"].default_quality == "fast"


def test_negative_rate() -> None:
    message = config_error(edited("draft: 1,", "draft: -1,"))
    assert "pricing.tools.image.rates.draft:" in message
    assert "greater than 0" in message


def test_negative_monthly_credits() -> None:
    assert "plans.pro.monthly_credits:" in config_error(edited("{monthly_credits: 5000}", "{monthly_credits: -1}"))


def test_unknown_unit() -> None:
    assert "pricing.tools.voice.unit:" in config_error(edited("unit: minute", "unit: hour"))


def test_renews_on_day_out_of_range() -> None:
    assert "teams.design.renews_on_day:" in config_error(edited("renews_on_day: 1", "renews_on_day: 32"))


def test_bad_member_id() -> None:
    assert "teams.design.members" in config_error(edited("U0ALICE: creator", "alice: creator"))


def test_missing_required_section() -> None:
    text = SPEC_YAML.replace("plans:\n  starter: {monthly_credits: 1000}\n  pro:     {monthly_credits: 5000}\n", "")
    message = config_error(text)
    assert "plans: required key is missing" in message


def test_two_teams_on_one_channel() -> None:
    message = config_error(SPEC_YAML + "  brand:\n    channel: C0DESIGN\n    plan: pro\n")
    assert "teams.brand.channel: C0DESIGN is already the channel of team 'design'" in message


def test_two_teams_on_one_keter_labs_name() -> None:
    """The bug: ``video`` mapped to Keter Labs' ``design`` beside team ``design`` booked design's charges to video."""
    message = config_error(SPEC_YAML + "  video:\n    channel: C0VIDEO\n    plan: pro\n    keter_team: design\n")
    assert "teams.video.keter_team: 'design' is already the Keter Labs name of team 'design'" in message


def test_a_team_may_name_its_own_keter_labs_name() -> None:
    assert parse_config(edited("    plan: pro\n", "    plan: pro\n    keter_team: design\n")).team_by_keter_name == {
        "design": "design"
    }


def test_invalid_yaml() -> None:
    message = config_error("pricing: [unclosed")
    assert message.startswith("credits file is not valid YAML")


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", ""])
def test_non_mapping_document(text: str) -> None:
    assert "must be a mapping" in config_error(text)


def test_error_message_names_its_source() -> None:
    with pytest.raises(ConfigError, match=r"^my\.yml is not valid YAML"):
        parse_config("a: [", source="my.yml")


# --- loading from a file -------------------------------------------------------------------------


def test_load_config_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "credits.yml"
    path.write_text(SPEC_YAML, encoding="utf-8")
    assert load_config(path) == parse_config(SPEC_YAML)


def test_load_config_with_a_missing_file_mentions_credits_config(tmp_path: Path) -> None:
    path = tmp_path / "nope.yml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "CREDITS_CONFIG" in message
    assert str(path) in message


def test_load_config_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "credits.yml"
    path.write_text(edited("plan: pro", "plan: prp"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f"CREDITS_CONFIG ({path})" in str(caught.value)
    assert "teams.design.plan" in str(caught.value)


# --- digest schedule -----------------------------------------------------------------------------


def test_digest_schedule_parses() -> None:
    schedule = DigestSchedule.parse("mon 09:00")
    assert (schedule.weekday, schedule.hour, schedule.minute) == (0, 9, 0)
    assert str(schedule) == "mon 09:00"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sun 23:59", DigestSchedule(weekday=6, hour=23, minute=59)),
        ("Friday 7:30", DigestSchedule(weekday=4, hour=7, minute=30)),
        ("  WED 00:00 ", DigestSchedule(weekday=2, hour=0, minute=0)),
    ],
)
def test_digest_schedule_forms(text: str, expected: DigestSchedule) -> None:
    assert DigestSchedule.parse(text) == expected


@pytest.mark.parametrize("text", ["", "mon", "09:00", "xyz 09:00", "mon 9", "mon 09:0", "mon09:00"])
def test_digest_schedule_not_a_schedule(text: str) -> None:
    with pytest.raises(ValueError, match="is not a schedule; write a weekday and a time, like 'mon 09:00'"):
        DigestSchedule.parse(text)


@pytest.mark.parametrize("text", ["mon 24:00", "mon 09:60", "tue 99:99"])
def test_digest_schedule_no_such_time(text: str) -> None:
    with pytest.raises(ValueError, match="no such time of day; use 00:00 to 23:59"):
        DigestSchedule.parse(text)


def test_hold_settings_default_and_are_read_from_the_file() -> None:
    default = load_config(None).holds
    assert (default.remind_after_hours, default.release_after_days) == (24, 7)
    changed = parse_config(default_config_text() + "holds: {remind_after_hours: 48, release_after_days: 14}\n")
    assert (changed.holds.remind_after_hours, changed.holds.release_after_days) == (48, 14)


def test_a_reminder_after_the_release_is_refused_with_its_path() -> None:
    with pytest.raises(ConfigError, match=r"holds: remind_after_hours \(200\) must come before release_after_days"):
        parse_config(default_config_text() + "holds: {remind_after_hours: 200, release_after_days: 7}\n")
    with pytest.raises(ConfigError, match=r"holds.release_afterdays: unknown key"):
        parse_config(default_config_text() + "holds: {release_afterdays: 7}\n")


def test_reminder_and_escalation_times_are_settable_and_ordered() -> None:
    text = default_config_text() + "\napprovals:\n  remind_at: 0.25\n  escalate_at: 0.5\n"
    config = parse_config(text)
    assert (config.approvals.remind_at, config.approvals.escalate_at) == (0.25, 0.5)
    with pytest.raises(ConfigError, match="escalate_at must come after"):
        parse_config(default_config_text() + "\napprovals:\n  remind_at: 0.8\n  escalate_at: 0.5\n")


def test_every_error_is_reported_at_once_with_the_channel_id_hint() -> None:
    text = (
        edited("plan: pro", "plan: prp").replace("C0DESIGN", "design-team").replace("U0ALICE: creator", "ann: creater")
    )
    message = config_error(text)
    assert "teams.design.channel: 'design-team' is not a channel id" in message
    assert "use the channel's id (C…), not its name: in Slack, open the channel's details, the id is at the bottom" in (
        message
    )
    assert "teams.design.members.ann: 'ann' is not a member id" in message
    assert "teams.design.plan: unknown plan 'prp'" in message
    assert "teams.design.members.ann: unknown role 'creater'" in message
    assert "String should match pattern" not in message
