"""Regenerate eval/realokrs/*.json from snapshots of the organisations' own repositories.

    python -m eval.realokrs.build [--mirror /work/.mirror]

Each source is a public OKR or roadmap document in which the organisation itself
wrote its work items under the key result (or milestone) they serve. Nothing here
is our label: a work item's expected KR is the one its authors filed it under.
The snapshots are git directories (read with `git show COMMIT:PATH`); SOURCES.md
names each repository, commit and licence.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

OUT = Path(__file__).resolve().parent
DEFAULT_MIRROR = Path("/work/.mirror")

_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")
_URL = re.compile(r"https?://\S+")
_CHECKBOX = re.compile(r"^\s*[-*]\s*(\[[ xX]\]\s*)?")


@dataclass
class Kr:
    title: str
    objective: str
    items: list[dict] = field(default_factory=list)  # {"text": ..., "url": ...}


def git_show(mirror: Path, repo: str, commit: str, path: str) -> str:
    git_dir = mirror / repo.replace("/", "+") / "repo"
    return subprocess.run(
        ["git", "--git-dir", str(git_dir), "show", f"{commit}:{path}"],
        check=True, capture_output=True, text=True,
    ).stdout


def plain(text: str) -> tuple[str, str | None]:
    """Markdown line -> its words (link texts kept, bare URLs and markup dropped) and its first URL."""
    urls = [m.group(2) for m in _LINK.finditer(text)] + _URL.findall(text)
    text = _LINK.sub(lambda m: m.group(1), text)
    text = _URL.sub("", text)
    text = re.sub(r"[`*~]|✔️|⭐|(?<!\w)_+|_+(?!\w)", "", text)  # min_const_args keeps its underscores
    text = re.sub(r"\(\s*\)", "", text)
    text = " ".join(text.split()).strip(" -–:;,")
    return text, (urls[0] if urls else None)


def _item(line: str) -> dict | None:
    text, url = plain(_CHECKBOX.sub("", line))
    # A bare link or a one-word stub ("block API" stays, "NA" goes) is no request anyone would type.
    if len(re.findall(r"[A-Za-z]{2,}", text)) < 2:
        return None
    return {"text": text, "url": url}


# --- ipfs/in-web-browsers: OKR.md, 2018 Q1 -------------------------------------------------------


def web_browsers(source: str) -> dict[str, list[Kr]]:
    """`## Objective`, then a bold line per KR with its work as the bullets below it.
    Bullets under an objective with no bold line are KRs with no work written under them."""
    krs: list[Kr] = []
    objective = None
    current: Kr | None = None
    for line in source.splitlines():
        if line.startswith("## ") and not line.startswith("## Objectives"):  # "## Objectives ... - Q1 2018" is the title
            objective, current = plain(line[3:])[0], None
        elif objective is None or line.startswith("#") or line.startswith("_"):
            continue
        elif line.startswith("**"):
            current = Kr(plain(line)[0], objective)
            krs.append(current)
        elif re.match(r"^\s*[-*] ", line):
            if current is None:
                krs.append(Kr(plain(_CHECKBOX.sub("", line))[0], objective))
            elif (item := _item(line)) is not None:
                current.items.append(item)
    return {"2018-Q1": krs}


# --- ipfs/js-ipfs: ROADMAP.md, 2016 Q3 and Q4 ----------------------------------------------------


def js_ipfs(source: str) -> dict[str, list[Kr]]:
    """`# 2016 Qn` quarters of `# Milestone - name` with a `> Summary:` and task lists."""
    periods: dict[str, list[Kr]] = {}
    period = None
    current: Kr | None = None
    in_tasks = False
    for line in source.splitlines():
        quarter = re.match(r"^# (\d{4}) Q([1-4])\s*$", line)
        if quarter:
            period = f"{quarter.group(1)}-Q{quarter.group(2)}"
            periods[period] = []
            continue
        if line.startswith("# Cached milestones") or line.startswith("# Project Status"):
            period = None  # "to re-evaluate": never the quarter's KRs
            continue
        if period is None:
            continue
        milestone = re.match(r"^#\s+.*Milestone - (.+)$", line)
        if milestone:
            current = Kr(plain(milestone.group(1))[0], "")
            periods[period].append(current)
            in_tasks = False
        elif current is not None and line.startswith("> Summary:"):
            summary = plain(line[len("> Summary:"):])[0]
            current.objective = summary or current.title
        elif line.startswith("#"):
            in_tasks = line.strip().rstrip(":") in ("### Tasks", "#### Extra")
        elif in_tasks and current is not None and re.match(r"^\s*[-*] ", line):
            if (item := _item(line)) is not None:
                current.items.append(item)
    for krs in periods.values():
        for kr in krs:
            kr.objective = kr.objective or kr.title
    return periods


# --- ipfs/team-mgmt: OKR/PACKAGE-MANAGERS.md, 2019 Q4 --------------------------------------------


def package_managers(source: str) -> dict[str, list[Kr]]:
    """`### Objective:`; `##### P0: Name` KRs under `#### Key Results`; initiatives under
    `#### Initiatives` name their KR on a `**KR**: Name` line (a name may cover two KRs)."""
    section = source.split("## 2019 Q3")[0]
    krs: list[Kr] = []
    objective = part = None
    initiative: str | None = None
    for line in section.splitlines():
        if line.startswith("### Objective:"):
            objective, part = plain(line[len("### Objective:"):])[0], None
        elif line.startswith("#### "):
            part = line[5:].strip()
        elif line.startswith("##### ") and objective:
            name = re.sub(r"^P\d:\s*", "", line[6:].strip())
            if part == "Key Results":
                krs.append(Kr(name, objective))
            initiative = name if part == "Initiatives" else None
        elif initiative and line.startswith("**KR**:"):
            target = line.split(":", 1)[1].strip().lower()
            for kr in krs:
                if kr.objective == objective and kr.title.lower().split()[0] == target.split()[0]:
                    kr.items.append({"text": initiative, "url": None})
    # Headings are names ("Update", "Mount"); the sentence under each is the KR or the work itself.
    sentences = _kr_sentences(section)
    for kr in krs:
        for item in kr.items:
            item["text"] = f"{item['text']}: {sentences.get(item['text'], '')}".rstrip(": ")
        kr.title = f"{kr.title}: {sentences.get(kr.title, '')}".rstrip(": ")
    return {"2019-Q4": krs}


def _kr_sentences(section: str) -> dict[str, str]:
    found, name = {}, None
    for line in section.splitlines():
        if line.startswith("##### "):
            name = re.sub(r"^P\d:\s*", "", line[6:].strip())
        elif name and line.strip() and not line.startswith(("**", "#")) and name not in found:
            found[name] = plain(line)[0]
    return found


# --- shared: bullets under a heading ------------------------------------------------------------

_BULLET = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])\s+(.*)$")
_SENTENCE_END = re.compile(r"(?<=[^\s.][.!?])\s+(?=[A-Z*\[`#])")


def first_sentence(text: str, limit: int = 240) -> str:
    """A paragraph's first sentence (the rest explains it), cut at a word before `limit`."""
    text = _SENTENCE_END.split(text, maxsplit=1)[0].rstrip(".")
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0]
    return text


def bullets(lines: list[str]) -> list[str]:
    """The bullets of a block as work item texts: a bullet's wrapped lines joined, only its first
    sentence kept, and a nested bullet prefixed with its parent ("Pipelines LTS promotions: CSI
    volumes") so that a fragment keeps the words that say what it is part of."""
    found: list[tuple[int, str]] = []  # (indent, raw text)
    open_bullet = False
    for line in lines:
        match = _BULLET.match(line.replace("\t", "    "))
        if match:
            found.append((len(match.group(1)), match.group(2)))
            open_bullet = True
        elif line.strip() and open_bullet and not line.lstrip().startswith(("#", "|", "```")):
            indent, text = found[-1]
            found[-1] = (indent, f"{text} {line.strip()}")
        else:
            open_bullet = False
    texts, parents = [], []  # parents: (indent, sentence) of the bullets above this one
    for indent, raw in found:
        sentence = first_sentence(plain(_CHECKBOX.sub("", "- " + raw))[0])
        while parents and parents[-1][0] >= indent:
            parents.pop()
        text = f"{parents[-1][1]}: {sentence}" if parents else sentence
        parents.append((indent, sentence))
        texts.append(text)
    return texts


def _items(texts: list[str]) -> list[dict]:
    items = [_item("- " + text) for text in texts]
    return [item for item in items if item is not None]


# --- tektoncd/community: roadmap.md, 2023 goals -------------------------------------------------


def tekton(source: str) -> dict[str, list[Kr]]:
    """`### 2023 Goals`: each `#### Goal: name` is a KR (its first paragraph, if any, the
    objective), its bullets the work. The 2021 list below has no goals over its bullets."""
    section = source.split("### 2023 Goals", 1)[1].split("### 2021 Roadmap", 1)[0]
    krs: list[Kr] = []
    for block in re.split(r"^#### Goal:", section, flags=re.M)[1:]:
        title, *body = block.splitlines()
        kr = Kr(plain(title)[0], "Tekton 2023 goals")
        kr.items = _items(bullets(body))
        krs.append(kr)
    return {"2023": krs}


# --- napari/docs: docs/roadmaps/*.md --------------------------------------------------------------


def napari(sources: dict[str, str]) -> dict[str, list[Kr]]:
    """0.3 and 0.4: each `## goal` between the summary and "Work prioritized for future roadmaps"
    is a KR with its bullets as work. Active roadmap: under "Strategic deliverables", each `###` area
    (or `####` part of one) is a KR with its bullets as work; the "Timeline" after it is not used."""
    periods: dict[str, list[Kr]] = {}
    for period, text in sources.items():
        if period in ("0.3", "0.4"):
            body = text.split("## Work prioritized for future roadmaps")[0]
            blocks = re.split(r"^## ", body, flags=re.M)[2:]  # [0] title, [1] "For 0.x series" summary
            objective = f"napari {period} roadmap"
        else:
            body = text.split("## Strategic deliverables", 1)[1].split("## Timeline")[0]
            blocks, area = [], ""
            for part in re.split(r"^(?=#{3,4} )", body, flags=re.M)[1:]:
                heading, _, rest = part.partition("\n")
                level, name = heading.split(" ", 1)
                area = name if level == "###" else area
                if level == "####" or bullets(rest.splitlines()):  # an area with `####` parts is no KR itself
                    blocks.append((name if level == "###" else f"{area}: {name}") + "\n" + rest)
            objective = "napari roadmap: strategic deliverables"
        krs = []
        for block in blocks:
            title, *lines = block.splitlines()
            kr = Kr(plain(title)[0], objective)
            kr.items = _items(bullets(lines))
            krs.append(kr)  # a goal with no bullets under it stays: one more KR to choose from
        periods[period] = krs
    return periods


# --- kubeflow/kubeflow: ROADMAP.md, releases 0.6 to 1.6 ------------------------------------------


def kubeflow(source: str) -> dict[str, list[Kr]]:
    """Each release section is a period; under it each working group or area (a `####` heading
    in 1.5 and 1.6, a bare line in 0.6 and 0.7) is a KR with its bullets as work. Releases whose
    features are one flat list (1.0, 1.1, 1.2, 1.4) or themes only (1.7 on) have no KR over their
    bullets and are not used; nor are "Detailed features ..." link lists or Kanban-board links."""
    periods: dict[str, list[Kr]] = {}
    releases = source.split("\n# Kubeflow 2019 roadmap")[0]  # an older page kept below: no releases
    for section in re.split(r"^## Kubeflow ", releases, flags=re.M)[1:]:
        release = section.split()[0].rstrip(",")
        if release not in ("0.6", "0.7", "1.5", "1.6"):
            continue
        krs: list[Kr] = []
        objective = f"Kubeflow {release} release"
        current: Kr | None = None
        block: list[str] = []

        def close() -> None:
            if current is not None:
                current.items = _items([t for t in bullets(block) if "Kanban board" not in t])
                if current.items:
                    krs.append(current)

        for line in section.splitlines()[1:]:
            heading = re.match(r"^#### (.+)$", line)
            bare = re.match(r"^([A-Z][A-Za-z -]+)\s*$", line)  # "Multi-user support" (0.6, 0.7)
            if heading or bare or line.startswith("### "):
                close()
                block = []
                name = (heading or bare).group(1).strip() if (heading or bare) else None
                skip = name is None or name.startswith(("Themes", "Detailed features"))
                current = None if skip else Kr(f"{plain(name)[0]} ({release})", objective)
            else:
                block.append(line)
        close()
        periods[release] = krs
    return periods


# --- rust-lang/rust-project-goals: src/<period>/<goal>.md -------------------------------------------

_RUST_NOT_GOALS = {"README.md", "goals.md", "accepted.md", "not_accepted.md", "candidates.md", "notes.md",
                   "flagship.md", "Project-goal-slate.md", "reports.md"}
_RUST_WORK = ("the next 6 months", "the next six months", "the next year", "work items over the next year",
              "milestones")


def rust_goal(text: str) -> Kr:
    """One goal document: the `#` title is the KR, the first sentence of its Summary the objective;
    the work is what the goal lists as its own steps: the bullets under "The next 6 months" (or
    "next six months", "next year") and the task or milestone rows of the tables under
    "Work items over the next year" and "Milestones". Team-ask tables ("Design meeting",
    "Standard reviews") are what the goal asks of teams, not its work, and are not used."""
    lines = text.splitlines()
    title = plain(lines[0].lstrip("# "))[0]
    summary = text.split("## Summary", 1)[1] if "## Summary" in text else ""
    paragraph = next((p for p in summary.split("\n\n") if p.strip() and not p.lstrip().startswith(("[", "#", "|", ">"))), "")
    objective = first_sentence(plain(" ".join(paragraph.split()))[0]) or title
    kr = Kr(title, objective)
    texts: list[str] = []
    block: list[str] = []
    in_work = False
    for line in lines[1:] + ["## end"]:
        heading = re.match(r"^(#{2,4}) (.+)$", line)
        if heading:
            if in_work:
                texts += bullets(block)
            name = heading.group(2).strip().lower()
            if heading.group(1) != "####" or not in_work:  # a `####` under a work section stays in it
                in_work = name in _RUST_WORK
            block = []
        elif in_work and line.startswith("|"):
            cell = line.split("|")[1].strip()
            cell = re.sub(r"^(↳\s*)?(\[[ xX]\]\s*)?", "", cell)
            if cell and not re.fullmatch(r"[-: ]+", cell) and cell.lower() not in ("task", "milestone"):
                texts.append(first_sentence(plain(cell)[0]))
        elif in_work:
            block.append(line)
    kr.items = _items(texts)
    return kr


def rust_goals(sources: dict[str, dict[str, str]]) -> dict[str, list[Kr]]:
    """Every goal of a period, with or without work written under it. Kept: status "Accepted"; in 2025h2 also
    "Proposed", since that slate's RFC #3849 was accepted but its goal pages were never re-marked."""
    periods: dict[str, list[Kr]] = {}
    for period, files in sources.items():
        krs = []
        for text in files.values():
            status = re.search(r"^\|\s*Status\s*\|\s*([^|]*)\|", text, re.M)
            status = status.group(1).strip() if status else ""
            if status == "Accepted" or (period == "2025h2" and status == "Proposed"):
                krs.append(rust_goal(text))
        periods[period] = krs
    return periods


@dataclass(frozen=True)
class Source:
    org: str
    repo: str
    commit: str
    path: str  # the document; for several, what they have in common (recorded in the JSON)
    parse: object
    licence: str
    read: object = None  # (mirror, source) -> what parse takes; default: the text at `path`


def git_ls(mirror: Path, repo: str, commit: str, directory: str) -> list[str]:
    git_dir = mirror / repo.replace("/", "+") / "repo"
    return subprocess.run(
        ["git", "--git-dir", str(git_dir), "ls-tree", "--name-only", f"{commit}:{directory}"],
        check=True, capture_output=True, text=True,
    ).stdout.split()


NAPARI = {"0.3": "docs/roadmaps/0_3.md", "0.4": "docs/roadmaps/0_4.md", "2025": "docs/roadmaps/active_roadmap.md"}
RUST_PERIODS = ("2024h2", "2025h1", "2025h2", "2026")


def _read_napari(mirror: Path, source: Source) -> dict[str, str]:
    return {period: git_show(mirror, source.repo, source.commit, path) for period, path in NAPARI.items()}


def _read_rust(mirror: Path, source: Source) -> dict[str, dict[str, str]]:
    return {
        period: {
            name: git_show(mirror, source.repo, source.commit, f"src/{period}/{name}")
            for name in git_ls(mirror, source.repo, source.commit, f"src/{period}")
            if name.endswith(".md") and name not in _RUST_NOT_GOALS
        }
        for period in RUST_PERIODS
    }


SOURCES = (
    Source("ipfs-web-browsers", "ipfs/in-web-browsers", "09f84c6fa47b047586105db8a5257f6840f383cf", "OKR.md",
           web_browsers, "MIT"),
    Source("js-ipfs", "ipfs/js-ipfs", "15db9013a54180275f0d86e430ca0c8bc2b57b66", "ROADMAP.md", js_ipfs, "MIT"),
    Source("ipfs-package-managers", "ipfs/team-mgmt", "d8b8c40277510fe327f346385ded0b77c50ca009", "OKR/PACKAGE-MANAGERS.md", package_managers,
           "CC BY-SA 3.0"),
    Source("tekton", "tektoncd/community", "0475e40dab9738d289b3a6c13dabade49286adb1", "roadmap.md", tekton,
           "Apache-2.0"),
    Source("kubeflow", "kubeflow/kubeflow", "0b663ba9c07cea89a70def1ade7cc3e92f476ea6", "ROADMAP.md", kubeflow,
           "Apache-2.0"),
    Source("napari", "napari/docs", "95846d46f67481514b888449060c35b8a790678a",
           "docs/roadmaps/{0_3,0_4,active_roadmap}.md", napari, "BSD-3-Clause", _read_napari),
    Source("rust-project-goals", "rust-lang/rust-project-goals", "44ee4db7e818e4ffc7b9f7faadb90316fc0a56f2",
           "src/{2024h2,2025h1,2025h2,2026}/*.md", rust_goals, "MIT", _read_rust),
)


def build(mirror: Path = DEFAULT_MIRROR, out: Path = OUT) -> dict[str, int]:
    counts = {}
    for source in SOURCES:
        raw = source.read(mirror, source) if source.read else git_show(mirror, source.repo, source.commit, source.path)
        periods = source.parse(raw)
        doc = {
            "org": source.org,
            "source": {"repo": source.repo, "commit": source.commit, "path": source.path, "licence": source.licence},
            "periods": [
                {
                    "period": period,
                    "krs": [
                        {"id": f"KR-{n}", "title": kr.title, "objective": kr.objective, "items": kr.items}
                        for n, kr in enumerate(krs, start=1)
                    ],
                }
                for period, krs in periods.items()
            ],
        }
        (out / f"{source.org}.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        counts[source.org] = sum(len(kr.items) for krs in periods.values() for kr in krs)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=DEFAULT_MIRROR)
    args = parser.parse_args()
    for org, items in build(args.mirror).items():
        print(f"{org}: {items} work items")


if __name__ == "__main__":
    main()
