"""Profile one command in-process, the way a listener runs it (command runner, one unit
of work, the Block Kit reply serialised as bolt would send it), against a loaded organisation.

    pip install pyinstrument          # not a project dependency
    python -m bench.profile --size M --command "status all" --repeat 20
    python -m bench.profile --size M --scenario home

Prints pyinstrument's call tree of `--repeat` runs after one warm-up run.
"""

from __future__ import annotations

import argparse
import json
import time

from bench import orgs
from bench.common import TEAM
from bench.scenarios import Picks
from okrbot.config import Settings
from okrbot.services.context import Actor
from okrbot.services.home import home_data
from okrbot.adapters.slack.commands.runner import CommandRunner
from okrbot.adapters.slack.views.home import home_view
from okrbot.store.db import Database
from okrbot.store.types import utcnow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="M")
    parser.add_argument("--backend", default=None)
    parser.add_argument("--command", default="status all", help="/okr words, run as the benchmark's asker in its team channel")
    parser.add_argument("--scenario", choices=("command", "home"), default="command")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--html", default="", help="also write pyinstrument's HTML here")
    args = parser.parse_args()

    from pyinstrument import Profiler

    org = orgs.load(args.size, args.backend)
    picks = Picks.read(org.url, org.period)
    db = Database(org.url)
    runner = CommandRunner(db, Settings(_env_file=None))

    def once() -> None:
        actor = Actor(team_id=TEAM, user_id=picks.asker, channel_id=picks.channel, now=utcnow())
        if args.scenario == "home":
            with db.session_scope() as session:
                view = home_view(home_data(session, actor))
            json.dumps(view.to_dict() if hasattr(view, "to_dict") else view)
            return
        outcome = runner.run(args.command, actor)
        json.dumps({"text": outcome.reply.text, "blocks": outcome.reply.block_dicts()})

    once()
    profiler = Profiler(interval=0.0005)
    started = time.perf_counter()
    profiler.start()
    for _ in range(args.repeat):
        once()
    profiler.stop()
    elapsed = time.perf_counter() - started
    print(f"{org.describe()}\n{args.scenario} {args.command!r}: {elapsed / args.repeat * 1000:.1f} ms per run over {args.repeat} runs\n")
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    if args.html:
        with open(args.html, "w") as out:
            out.write(profiler.output_html())
    db.dispose()


if __name__ == "__main__":
    main()
