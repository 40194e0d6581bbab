"""Operating tests (issue 18) reuse the end-to-end fixtures: a running okrbot on loopback,
the Slack double, a client that signs requests like Slack, and `okrbot serve` as a process."""

from tests.e2e.conftest import bot, client, okr, served, slack  # noqa: F401
from tests.e2e.test_serve_process import empty_database_url, serve  # noqa: F401
