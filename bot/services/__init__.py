"""Use cases that combine the pure rules with the store: resolve a member, quote, report a balance."""
