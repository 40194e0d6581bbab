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
    text = re.sub(r"[`*_~]|✔️|⭐", "", text)
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


@dataclass(frozen=True)
class Source:
    org: str
    repo: str
    commit: str
    path: str
    parse: object
    licence: str


SOURCES = (
    Source("ipfs-web-browsers", "ipfs/in-web-browsers", "09f84c6fa47b047586105db8a5257f6840f383cf", "OKR.md",
           web_browsers, "MIT"),
    Source("js-ipfs", "ipfs/js-ipfs", "15db9013a54180275f0d86e430ca0c8bc2b57b66", "ROADMAP.md", js_ipfs, "MIT"),
    Source("ipfs-package-managers", "ipfs/team-mgmt", "d8b8c40277510fe327f346385ded0b77c50ca009", "OKR/PACKAGE-MANAGERS.md", package_managers,
           "CC BY-SA 3.0"),
)


def build(mirror: Path = DEFAULT_MIRROR, out: Path = OUT) -> dict[str, int]:
    counts = {}
    for source in SOURCES:
        periods = source.parse(git_show(mirror, source.repo, source.commit, source.path))
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
