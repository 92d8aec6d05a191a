"""Scheduled jobs (weekly digests, budget alerts) and the scheduler that runs them; see ``scheduler``."""
