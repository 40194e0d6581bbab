"""Typed @names: reading a workspace's users.list and looking names up in it.

    python -m bench.people                    # 10,000 people (50 pages of 200), 5 reads
    python -m bench.people --people 2000 --reads 10

Each read is `adapters/slack/people.py` reading every page from the Slack double over HTTP on
127.0.0.1 (as after a restart, once an hour, or on an unknown name once a minute) and
indexing the names; lookups then come from the index, as every command with `@name` does.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from pathlib import Path

from slack_sdk import WebClient

from okrbot.adapters.slack import people as people_module
from okrbot.adapters.slack.people import WorkspacePeople
from tests.fakes.slack_api import SlackDouble

from bench.common import load_average, percentile, stamp, table, write_result

TEMPLATE = json.loads((Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "slack_users_list.json").read_text())["members"][0]
FIRST_NAMES = ["Maria", "Ana", "Jo", "Sam", "Lee", "Kim", "Alex", "Noor", "Ravi", "Yuki"]


def members(count: int) -> list[dict]:
    found = []
    for n in range(count):
        member = copy.deepcopy(TEMPLATE)
        real = f"{FIRST_NAMES[n % len(FIRST_NAMES)]}{n // len(FIRST_NAMES)} Person{n}"
        member.update(id=f"U{n:08d}", name=f"person{n}", real_name=real, deleted=n % 50 == 0)
        member["profile"].update(real_name=real, display_name=f"p{n}")
        found.append(member)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--reads", type=int, default=5)
    parser.add_argument("--lookups", type=int, default=2_000)
    args = parser.parse_args()
    people_module.MOST_PAGES = max(people_module.MOST_PAGES, args.people // people_module.PAGE_SIZE + 1)

    with SlackDouble() as slack:
        slack.set_people(members(args.people))
        client = WebClient(token="xoxb-bench", base_url=slack.api_url)
        reads, cpu = [], []
        for _ in range(args.reads):
            directory = WorkspacePeople(client)
            started, started_cpu = time.perf_counter(), time.process_time()
            directory.people_named("T1", "person1")
            reads.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        pages = len(slack.calls("users.list")) // args.reads
        names = [f"person{n}" for n in range(0, args.people, max(1, args.people // args.lookups))]
        lookups = []
        for name in names:
            started = time.perf_counter()
            directory.people_named("T1", name)
            lookups.append((time.perf_counter() - started) * 1000)

    result = {
        **stamp(),
        "people": args.people,
        "pages": pages,
        "read_p50_ms": round(statistics.median(reads), 1),
        "read_max_ms": round(max(reads), 1),
        "read_cpu_p50_ms": round(statistics.median(cpu), 1),
        "lookup_p50_ms": round(statistics.median(lookups), 3),
        "lookup_p99_ms": round(percentile(lookups, 99), 3),
        "load_average_at_end": load_average(),
    }
    rows = [
        (f"read + index ({pages} pages)", result["read_p50_ms"], result["read_max_ms"], result["read_cpu_p50_ms"]),
        (f"lookup ({len(lookups)} names)", result["lookup_p50_ms"], result["lookup_p99_ms"], ""),
    ]
    print(f"{args.people} people, {args.reads} reads (ms)")
    print(table(rows, ("step", "p50", "max / p99", "CPU p50")))
    print(f"results: {write_result('people', result)}")


if __name__ == "__main__":
    main()
