"""Developer tools shipped with the bot for its local console and the tests (stdlib and bot deps only)."""
