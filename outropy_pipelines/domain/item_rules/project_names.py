"""Project names: from a channel's name ("proj-atlas" -> "Atlas") and from text ("Project Atlas",
"Atlas v2", "the Atlas migration", "#proj-atlas"), as the entities of an item.

A `PROJECT_TEXT_RES` entry is (pattern, name is a slug, substring the text must hold for the
pattern to run). `NOT_PROJECTS` are capitalised words that are not project names.
"""

from __future__ import annotations

import re

from outropy_pipelines.domain.item_rules.message_text import wordset

_I = re.IGNORECASE

PROJECT_CHANNEL_RE = re.compile(
    r"^(?:proj|project|prj|initiative|epic|feat|feature|program|programme|launch|p)[-_](?P<name>[a-z0-9][\w-]*)$",
    _I,
)
PROJECT_TEXT_RES: tuple[tuple[re.Pattern[str], bool, str], ...] = (
    (re.compile(r"\b[Pp]roject\s+(?P<name>[A-Z][\w-]*(?:\s+[A-Z][\w-]*)?)"), False, "roject"),
    (re.compile(r"\b(?P<name>[A-Z][a-zA-Z0-9]{2,})\s+[vV]\d+(?:\.\d+)*\b"), False, " v"),
    (
        re.compile(
            r"\bthe\s+(?P<name>[A-Z][a-zA-Z0-9]{2,})\s+(?:project|launch|migration|rollout|initiative|epic|"
            r"program|programme|release|beta|pilot|workstream|redesign|rewrite)\b"
        ),
        False,
        "the ",
    ),
    (
        re.compile(r"#(?:proj|project|prj|initiative|epic|feat|program)[-_](?P<name>[a-z0-9][\w-]*)", _I),
        True,
        "#",
    ),
)
NOT_PROJECTS = wordset(
    "The This That These Those Our Your Their My We It Its Q1 Q2 Q3 Q4 Version Release Sprint Phase "
    "Step Part Chapter Python Node Java Go Rust Ubuntu Windows Debian Android Chrome Firefox Safari "
    "Slack Zoom Google Monday Tuesday Wednesday Thursday Friday Saturday Sunday Jira GitHub Project New "
    "Old Next Last First Final"
)
_VERSION_SUFFIX_RE = re.compile(r"[-_ ](?:v?\d+(?:\.\d+)*|alpha|beta|dev|eng|team|prod|staging)$", _I)


def channel_project(channel_name: str) -> str | None:
    cm = PROJECT_CHANNEL_RE.match(channel_name.lstrip("#"))
    return project_display(cm.group("name")) if cm else None


def project_display(slug: str) -> str:
    slug = slug.strip("-_ #")
    while True:
        cut = _VERSION_SUFFIX_RE.sub("", slug)
        if cut == slug or not cut:
            break
        slug = cut
    words = [w for w in re.split(r"[-_\s]+", slug) if w]
    return " ".join(w[:1].upper() + w[1:] for w in words)
