"""Profile a slash command the way a worker runs it: bolt's dispatch of the signed request,
the listener, the unit of work, the outbox and the answer posted to the response_url of the
Slack double. What bench/profile.py leaves out (bolt, the outbox, HTTP) is in here.

    python -m bench.profile_job --size M --command status --repeat 100

Prints the CPU time per request (this process: the double's threads included) without and
with cProfile, then cProfile's top functions by cumulative and by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time

from bench import orgs
from bench.common import SECRET, TOKEN, AnsweringDouble
from bench.faults import _Preparing
from bench.scenarios import Picks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="M")
    parser.add_argument("--backend", default=None)
    parser.add_argument("--command", default="status", help="/okr words, asked by the benchmark's asker in its team channel")
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()

    org = orgs.load(args.size, args.backend)
    picks = Picks.read(org.url, org.period)
    with AnsweringDouble() as slack:
        slack.keep_calls = False
        picks.tell(slack)
        os.environ.update(SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.api_url, DATABASE_URL=org.url, OKRBOT_SCHEDULER="false")
        from okrbot.config import Settings
        from okrbot.runtime.jobs.job import Job, Route
        from okrbot.runtime.jobs.runner import JobRunner
        from okrbot.services import idempotency
        from okrbot.store.db import Database

        db = Database(org.url)
        runner = JobRunner(Settings(_env_file=None), db, threads=1)
        signed = _Preparing("http://127.0.0.1:9", SECRET, response_url_factory=slack.response_url)

        def once(n: int) -> None:
            request = signed.command(args.command, user_id=picks.asker, channel_id=picks.channel)
            headers = {name.lower(): value for name, value in request.headers.items()}
            headers["content-type"] = "application/x-www-form-urlencoded"
            job = Job(n, Route.SLACK, request.body, headers, key=f"profile:{n}:{time.time_ns()}")
            with idempotency.handling(job.key):
                answer = runner.run(job)
            assert answer.status == 200, answer

        for n in range(5):  # imports, caches, pools
            once(n)
        started = time.process_time()
        for n in range(args.repeat):
            once(1_000 + n)
        plain = (time.process_time() - started) / args.repeat * 1000
        profiler = cProfile.Profile()
        started = time.process_time()
        profiler.enable()
        for n in range(args.repeat):
            once(100_000 + n)
        profiler.disable()
        profiled = (time.process_time() - started) / args.repeat * 1000
        print(f"{org.describe()}\n/okr {args.command}: {plain:.1f} ms CPU per request ({profiled:.1f} under cProfile), {args.repeat} requests, load {os.getloadavg()[0]:.1f}\n")
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top // 2)
        db.dispose()


if __name__ == "__main__":
    main()
