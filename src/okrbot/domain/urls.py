"""Work-item URLs: one normal form so a command, a webhook and an import agree."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_GITHUB_ITEM = re.compile(r"^/([^/]+)/([^/]+)/(issues|pull)/(\d+)")


def url_key(url: str) -> str:
    """Lower-case scheme and host, no fragment, no trailing slash; GitHub
    issue and PR URLs lose any tail such as /files or /commits."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    host = parts.netloc.lower()
    if host in ("github.com", "www.github.com"):
        host = "github.com"
        found = _GITHUB_ITEM.match(path)
        if found:
            owner, repo, kind, number = found.groups()
            path = f"/{owner.lower()}/{repo.lower()}/{kind}/{number}"
    return urlunsplit((parts.scheme.lower() or "https", host, path, parts.query, ""))


def title_from_url(url: str) -> str:
    """A readable title for work first seen as a bare URL: `acme/app#12`, or host + path."""
    parts = urlsplit(url.strip())
    found = _GITHUB_ITEM.match(parts.path)
    if parts.netloc.lower().endswith("github.com") and found:
        owner, repo, kind, number = found.groups()
        return f"{owner}/{repo}#{number}" + (" (PR)" if kind == "pull" else "")
    tail = parts.path.rstrip("/")
    return f"{parts.netloc}{tail}" if tail else parts.netloc or url


def is_url(text: str) -> bool:
    return bool(re.match(r"^https?://[^\s/]+", text.strip(), re.IGNORECASE))
