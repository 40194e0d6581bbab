"""Trust tests (issue 8) reuse the end-to-end fixtures: a running okrbot on loopback,
the Slack double, and a client that signs requests like Slack."""

from tests.e2e.conftest import bot, client, okr, served, slack, valid_blockkit  # noqa: F401
