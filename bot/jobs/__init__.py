"""Scheduled jobs (weekly digests, budget alerts) and the scheduler that runs them; see ``scheduler``.

No job imports a listener (``bot.slack.listeners``): what a job posts comes from ``bot.slack.outbound``.
"""
