"""The import graph keeps the rooms apart (STYLE.md): domain imports nothing of ours,
store and services nothing of Slack, and no module imports itself back in a cycle.

Read from the source with `ast`, so a lazy import inside a function counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "okrbot"
SLACK_LIBRARIES = ("slack_sdk", "slack_bolt")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(path): imports_of(path) for path in PACKAGE.rglob("*.py")}


def internal(imports: set[str]) -> set[str]:
    """The okrbot modules among these names (a name may be a module or something in one)."""
    return {name for name in imports if name in MODULES}


def in_room(module: str, room: str) -> bool:
    return module == f"okrbot.{room}" or module.startswith(f"okrbot.{room}.")


def test_the_graph_was_read():
    assert len(MODULES) > 50 and "okrbot.services.work" in MODULES


@pytest.mark.parametrize("room", ["domain"])
def test_domain_imports_nothing_of_ours_and_no_infrastructure(room):
    offenders = {
        module: sorted(name for name in imports if name.startswith(("okrbot.", "sqlalchemy", "sqlmodel", *SLACK_LIBRARIES)) and not in_room(name, room))
        for module, imports in MODULES.items()
        if in_room(module, room)
    }
    assert {module: names for module, names in offenders.items() if names} == {}


@pytest.mark.parametrize("room", ["domain", "store", "services"])
def test_no_slack_below_the_adapter(room):
    offenders = {
        module: sorted(name for name in imports if name.startswith(SLACK_LIBRARIES) or in_room(name, "adapters.slack"))
        for module, imports in MODULES.items()
        if in_room(module, room)
    }
    assert {module: names for module, names in offenders.items() if names} == {}


# Surfaces other than Slack: they reach Slack only through the notifier they are handed.
@pytest.mark.parametrize("room", ["adapters.webhooks", "runtime.reviews_job", "runtime.grading_job", "runtime.announce_job", "adapters.shell"])
def test_webhooks_jobs_and_shell_reach_slack_only_through_the_notifier(room):
    offenders = {
        module: sorted(name for name in imports if name.startswith(SLACK_LIBRARIES) or in_room(name, "adapters.slack"))
        for module, imports in MODULES.items()
        if in_room(module, room)
    }
    assert offenders and {module: names for module, names in offenders.items() if names} == {}


def test_no_import_cycles():
    graph = {module: internal(imports) - {module} for module, imports in MODULES.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                cycles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target, path + [target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)
