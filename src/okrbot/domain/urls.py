"""Work-item URLs: one normal form so a command, a webhook and an import agree."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_GITHUB_ITEM = re.compile(r"^/([^/]+)/([^/]+)/(issues|pull|milestone)/(\d+)")
# GitLab (gitlab.com or a self-managed host): <group/…/project>/-/<kind>/<n>[/tail]
_GITLAB_ITEM = re.compile(r"^/(.+?)/-/(issues|merge_requests|milestones|work_items|epics)/(\d+)")
# Jira Cloud and Data Center: /browse/PAY-12
_JIRA_BROWSE = re.compile(r"^(/.*)?/browse/([A-Za-z][A-Za-z0-9_]*-\d+)$")
# Linear: /<workspace>/issue/KOR-11/<title slug>, /<workspace>/project/<name slug>-<slug id>[/tail]
_LINEAR_ISSUE = re.compile(r"^/([^/]+)/issue/([A-Za-z0-9]+-\d+)")
_LINEAR_PROJECT = re.compile(r"^/([^/]+)/project/(?:[^/]*-)?([0-9a-f]{8,})(?:/|$)", re.IGNORECASE)


def url_key(url: str) -> str:
    """Lower-case scheme and host, no fragment, no trailing slash. Tracker item URLs lose
    what varies between the links people paste and what a webhook sends: GitHub and GitLab
    tails such as /files, Linear title slugs, the query of a Jira browse link."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    host = parts.netloc.lower()
    query = parts.query
    if host in ("github.com", "www.github.com"):
        host = "github.com"
        found = _GITHUB_ITEM.match(path)
        if found:
            owner, repo, kind, number = found.groups()
            path = f"/{owner.lower()}/{repo.lower()}/{kind}/{number}"
    elif host == "linear.app":
        if found := _LINEAR_ISSUE.match(path):
            path = f"/{found.group(1).lower()}/issue/{found.group(2).lower()}"
        elif found := _LINEAR_PROJECT.match(path):
            path = f"/{found.group(1).lower()}/project/{found.group(2).lower()}"
    elif found := _GITLAB_ITEM.match(path):
        project, kind, number = found.groups()
        path, query = f"/{project.lower()}/-/{kind}/{number}", ""
    elif found := _JIRA_BROWSE.match(path):
        path, query = f"{found.group(1) or ''}/browse/{found.group(2).upper()}", ""
    return urlunsplit((parts.scheme.lower() or "https", host, path, query, ""))


def jira_browse_url(site: str, key: str) -> str:
    """The browse link of a Jira issue on a site (`https://acme.atlassian.net`)."""
    return f"{site.rstrip('/')}/browse/{key.upper()}"


def title_from_url(url: str) -> str:
    """A readable title for work first seen as a bare URL: `acme/app#12`, `PAY-12`, or host + path."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    found = _GITHUB_ITEM.match(parts.path)
    if parts.netloc.lower().endswith("github.com") and found:
        owner, repo, kind, number = found.groups()
        if kind == "milestone":
            return f"{owner}/{repo} milestone {number}"
        return f"{owner}/{repo}#{number}" + (" (PR)" if kind == "pull" else "")
    if parts.netloc.lower() == "linear.app" and (found := _LINEAR_ISSUE.match(path)):
        return found.group(2).upper()
    if found := _JIRA_BROWSE.match(path):
        return found.group(2).upper()
    if found := _GITLAB_ITEM.match(path):
        project, kind, number = found.groups()
        mark = {"merge_requests": "!", "milestones": " milestone "}.get(kind, "#")
        return f"{project}{mark}{number}"
    return f"{parts.netloc}{path}" if path else parts.netloc or url


def is_url(text: str) -> bool:
    return bool(re.match(r"^https?://[^\s/]+", text.strip(), re.IGNORECASE))
