"""Block Kit builders, one module per surface, built with slack_sdk's typed (length-checked) models.

They render what they are given. May import: ``bot.slack.ids``, ``bot.domain``, ``bot.credits_file`` and,
from ``bot.services``, types and constants only (no function, so nothing that writes); never the
store (``tests/test_layering.py``).
"""
