"""keter-credits: a Slack bot that keeps a creative team's Keter Labs credit spend predictable."""
