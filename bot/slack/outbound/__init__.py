"""What the bot sends to Slack on its own: approval posts and their outcomes, Home tabs, and the pacing
every post goes through.

May import: ``bot.slack.blocks``, ``bot.slack.context``, ``bot.services``, ``bot.domain``.
Not ``bot.slack.listeners``.
"""
