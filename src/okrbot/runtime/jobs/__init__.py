"""Acks in one process, work in another.

Slack gives an app 3 seconds to acknowledge a request, and most requests need no more
than an empty 200. The server (runtime/server.py, adapters/slack/socket_front.py) checks the signature,
acknowledges at once and hands the request on as a `Job`; the work (bolt's listeners,
the webhooks, the scheduler) runs in worker processes at a lower CPU priority
(runtime/jobs/child.py), so no amount of work slows an ack down. Requests whose answer Slack
reads (a modal's field errors) wait for their job's `Answer`.
"""

from okrbot.runtime.jobs.job import Answer, Job, Route

__all__ = ["Answer", "Job", "Route"]
