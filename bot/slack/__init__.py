"""The Slack edge: listeners, Block Kit builders and the ids they share."""
