"""Stage: per-user briefings for a day (`briefings`, `briefing_lines`), plus Markdown files."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from outropy_pipelines.adapters.duckdb_store import DuckDBStore, to_json
from outropy_pipelines.domain.briefing_index import BriefingIndex
from outropy_pipelines.domain.briefing_rendering import render_plain_text
from outropy_pipelines.domain.models import Briefing, Directory, OpenItem, SourceRef
from outropy_pipelines.stages.classification import load_items
from outropy_pipelines.stages.entity_memory import load_entity_summaries


@dataclass
class BriefingsReport:
    day: str
    briefings: list[Briefing] = field(default_factory=list)
    lines: int = 0
    files: list[Path] = field(default_factory=list)


def briefing_content_hash(b: Briefing) -> str:
    return hashlib.sha256(b.markdown.encode("utf-8")).hexdigest()[:16]


def brief_day(
    store: DuckDBStore,
    directory: Directory,
    day: str,
    user_ids: Sequence[str],
    workspace_url: str,
    briefings_dir: Path | None = None,
) -> BriefingsReport:
    """Build and store the briefings of `user_ids` for `day`, replacing those (day, user) rows.

    The day's items are indexed once (`BriefingIndex`); each user then costs only the selection,
    ranking and rendering of their own lines, with the same result as `build_briefing`.
    """
    users = directory.user_by_id()
    channels = directory.channel_by_id()
    user_names = {u.user_id: u.display_name for u in directory.users}
    items = load_items(store, day)
    source_rows = store.query(
        """SELECT DISTINCT r.channel_id, r.ts, r.thread_ts, r.user_id FROM raw_messages r
           JOIN item_sources s ON s.channel_id = r.channel_id AND s.ts = r.ts
           WHERE s.day = ?""",
        [day],
    )
    thread_ts_of = {(r["channel_id"], r["ts"]): r["thread_ts"] for r in source_rows}
    authors_of = {(r["channel_id"], r["ts"]): r["user_id"] for r in source_rows}
    person_memory = {
        s.entity_id: s.open_items
        for s in load_entity_summaries(store, day, [f"person:{uid}" for uid in user_ids])
    }
    index = BriefingIndex(
        day, items, channels, user_names, workspace_url, thread_ts_of, authors_of=authors_of
    )
    sources_json: dict[tuple[tuple[str, str], ...], str] = {}

    def to_sources_json(sources: list[SourceRef]) -> str:
        key = tuple((s.channel_id, s.ts) for s in sources)
        text = sources_json.get(key)
        if text is None:
            text = sources_json[key] = to_json([s.model_dump() for s in sources])
        return text

    report = BriefingsReport(day=day)
    briefing_rows, line_rows = [], []
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for uid in user_ids:
        user = users.get(uid)
        if user is None:
            continue
        open_items: list[OpenItem] = [
            o for o in person_memory.get(f"person:{uid}", []) if uid in o.owners and o.since_day < day
        ]
        b = index.build_briefing(user, open_items)
        report.briefings.append(b)
        briefing_rows.append(
            {
                "day": day,
                "user_id": uid,
                "user_name": b.user_name,
                "markdown": b.markdown,
                "blocks_json": b.blocks_json,
                "html": b.html,
                "plain_text": render_plain_text(b, renderer=index.renderer),
                "item_count": b.item_count,
                "llm_tokens": b.llm_tokens,
                "content_hash": briefing_content_hash(b),
                "created_at": now,
            }
        )
        for line in b.lines:
            line_rows.append(
                {
                    "day": day,
                    "user_id": uid,
                    "position": line.position,
                    "section": line.section,
                    "item_id": line.item_id,
                    "kind": line.kind,
                    "text": line.text,
                    "reason": line.reason,
                    "score": line.score,
                    "channel_id": line.channel_id,
                    "sources": to_sources_json(line.sources),
                    "permalinks": line.permalinks,
                }
            )
    keys = {"day": day, "user_id": list(user_ids)}
    store.replace_partitions([("briefings", keys, briefing_rows), ("briefing_lines", keys, line_rows)])
    report.lines = len(line_rows)
    if briefings_dir is not None:
        folder = briefings_dir / day
        folder.mkdir(parents=True, exist_ok=True)
        for b in report.briefings:
            path = folder / f"{b.user_id}.md"
            path.write_text(b.markdown, encoding="utf-8")
            report.files.append(path)
    return report
