"""What each `/credits` subcommand answers: handlers that call a service and render a `Reply`.

Not listeners: the `/credits` listener and the "Start a second task" button both reach them through
`bot.slack.answers.registry`.
"""
