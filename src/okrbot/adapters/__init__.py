"""Where okrbot meets the outside: Slack, HTTP webhooks, the shell."""
