"""Block Kit builders, one module per surface, built with slack_sdk's typed (length-checked) models."""
