"""What the user sees when something is wrong: their mistake, or ours (with a reference)."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.domain.errors import UserFacingError
from bot.services.tasks.holds import OverdrawnTeamError, ShortfallError
from bot.services.tasks.run_and_done import NotYourTaskError
from bot.services.workspace.members import NotAMemberError
from bot.slack.blocks.asks import ask_buttons


def user_error_text(error: UserFacingError) -> str:
    """The error's message, with the people it names (user ids from the service) shown as mentions."""
    if isinstance(error, ShortfallError | OverdrawnTeamError):
        return error.explain(", ".join(f"<@{user}>" for user in error.admins) or "an admin")
    if isinstance(error, NotAMemberError):
        return error.explain(", ".join(f"<@{user}>" for user in error.admins))
    if isinstance(error, NotYourTaskError):
        return error.explain(f"<@{error.owner}>")
    return error.message


def user_error_blocks(
    message: str, *, command_text: object = None, error: UserFacingError | None = None
) -> list[Block]:
    """A mistake the user can fix, said plainly, with a pointer to help.

    A ``run`` the team can't afford (short or overdrawn) also offers **Ask for extra credits**.
    """
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f":warning: {message}")),
        ContextBlock(elements=[MarkdownTextObject(text="Nothing was changed. `/credits help` shows every command.")]),
    ]
    text = command_text.strip() if isinstance(command_text, str) else ""
    if isinstance(error, ShortfallError | OverdrawnTeamError) and text.lower().startswith("run "):
        blocks += ask_buttons(f"/credits {text}", limit_raise=False, extra_credits=True)
    return blocks


def internal_error_blocks(reference: str) -> list[Block]:
    """Our fault: no details, a reference the admin can find in the logs."""
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text=f":x: Something went wrong on our side (ref `{reference}`). Nothing was charged; "
                "please try again, and tell an admin if it keeps happening."
            )
        )
    ]
