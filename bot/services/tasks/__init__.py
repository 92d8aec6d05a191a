"""A task from run to done: placing the one hold, capturing or releasing it, cancelling, settling by
Keter Labs' charges, stale holds, overruns, and the approval request a run opens.

May import: ``services.quoting``, ``services.balances``, ``services.workspace``, ``bot.domain``,
``bot.store``, ``bot.credits_file``. Not ``services.approvals`` (which decides what a run opened) nor
``services.charges``.
"""
