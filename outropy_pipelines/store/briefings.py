"""`briefings` and `briefing_lines`: each reader's briefing of a day, rendered, and its ranked lines."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence

from outropy_pipelines.domain.models import Briefing, SourceRef
from outropy_pipelines.store.duckdb_store import DuckDBStore, list_param, to_json, unnested
from outropy_pipelines.store.shared_strings import SharedStrings


def content_hash(b: Briefing) -> str:
    """What identifies a briefing's content (delivery resends only when it changes)."""
    return hashlib.sha256(b.markdown.encode("utf-8")).hexdigest()[:16]


def source_messages(
    store: DuckDBStore, day: str, also: Iterable[SourceRef] = ()
) -> tuple[dict[tuple[str, str], str | None], dict[tuple[str, str], str | None]]:
    """For every message an item of `day` cites, and every message in `also` (the sources of open
    items carried over from earlier days): its thread_ts and its author, by (channel_id, ts)."""
    extra = sorted({(s.channel_id, s.ts) for s in also})
    with store.connect() as con:
        rows = con.execute(
            f"""WITH cited AS (
                   SELECT channel_id, ts FROM item_sources WHERE day = ?
                   UNION
                   SELECT {unnested()} AS channel_id, {unnested()} AS ts)
               SELECT DISTINCT r.channel_id, r.ts, r.thread_ts, r.user_id FROM raw_messages r
               JOIN cited c ON c.channel_id = r.channel_id AND c.ts = r.ts""",
            [day, list_param(c for c, _ in extra), list_param(t for _, t in extra)],
        ).fetchall()
    # both maps share each key, and one str per channel and per author (a million-message day's
    # briefings cite ~180,000 messages)
    one = SharedStrings()
    thread_ts_of: dict[tuple[str, str], str | None] = {}
    authors_of: dict[tuple[str, str], str | None] = {}
    for channel_id, ts, thread_ts, user_id in rows:
        key = (one(channel_id), ts)
        thread_ts_of[key] = thread_ts
        authors_of[key] = one(user_id)
    return thread_ts_of, authors_of


#: briefings per Parquet file of a write (`replace_day_users`)
SPILL_BRIEFINGS = 100


def replace_day_users(
    store: DuckDBStore,
    day: str,
    user_ids: Sequence[str],
    briefings: Sequence[Briefing],
    plain_texts: Sequence[str],
) -> int:
    """Replace the briefings (and their lines) of `user_ids` on `day` with `briefings` (each with
    its plain-text rendering), in one transaction; returns the lines written.

    The rows go to Parquet files `SPILL_BRIEFINGS` briefings at a time, which DuckDB inserts with
    one scan: a day's rows are never all in memory as rows and again as Arrow, and DuckDB's insert
    from Parquet takes less of its own (a million-message day's 1,000 briefings: ~60 MB less)."""
    if len(briefings) != len(plain_texts):
        raise ValueError(f"{len(briefings)} briefings but {len(plain_texts)} plain texts")
    sources_json: dict[tuple[tuple[str, str], ...], str] = {}

    def to_sources_json(sources: list[SourceRef]) -> str:
        key = tuple((s.channel_id, s.ts) for s in sources)
        text = sources_json.get(key)
        if text is None:
            text = sources_json[key] = to_json([s.model_dump() for s in sources])
        return text

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    keys = {"day": day, "user_id": list(user_ids)}
    with store.spill() as briefing_spill, store.spill() as line_spill:
        for start in range(0, len(briefings), SPILL_BRIEFINGS):
            batch = range(start, min(start + SPILL_BRIEFINGS, len(briefings)))
            briefing_rows, line_rows = [], []
            for n in batch:
                b = briefings[n]
                briefing_rows.append(
                    {
                        "day": day,
                        "user_id": b.user_id,
                        "user_name": b.user_name,
                        "markdown": b.markdown,
                        "blocks_json": b.blocks_json,
                        "html": b.html,
                        "plain_text": plain_texts[n],
                        "item_count": b.item_count,
                        "llm_tokens": b.llm_tokens,
                        "content_hash": content_hash(b),
                        "created_at": now,
                    }
                )
                for line in b.lines:
                    line_rows.append(
                        {
                            "day": day,
                            "user_id": b.user_id,
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
            briefing_spill.write(briefing_rows)
            line_spill.write(line_rows)
        store.replace_partitions([("briefings", keys, briefing_spill), ("briefing_lines", keys, line_spill)])
        return line_spill.num_rows


def find_briefing(store: DuckDBStore, day: str, user: str) -> dict[str, str] | None:
    """A stored briefing of `day` for `user` (a user id, or a name or real name in any case)."""
    rows = store.query(
        """SELECT b.user_id, b.markdown, b.html, b.blocks_json FROM briefings b
           LEFT JOIN users u ON u.user_id = b.user_id
           WHERE b.day = ? AND (b.user_id = ? OR lower(u.name) = lower(?) OR lower(u.real_name) = lower(?))
           ORDER BY b.user_id LIMIT 1""",
        [day, user, user, user],
    )
    return rows[0] if rows else None


def find_user(store: DuckDBStore, user: str) -> dict[str, str] | None:
    """The user `user` names (a user id, or a name or real name in any case): `user_id` and `name`,
    or None when the directory has no such user."""
    rows = store.query(
        """SELECT user_id, name FROM users
           WHERE user_id = ? OR lower(name) = lower(?) OR lower(real_name) = lower(?)
           ORDER BY user_id = ? DESC, user_id LIMIT 1""",
        [user, user, user, user],
    )
    return rows[0] if rows else None


def briefing_days(store: DuckDBStore, user_id: str | None = None) -> list[str]:
    """The days with a stored briefing (of `user_id`, or of anyone), sorted."""
    if user_id is None:
        rows = store.query("SELECT DISTINCT day FROM briefings ORDER BY day")
    else:
        rows = store.query("SELECT DISTINCT day FROM briefings WHERE user_id = ? ORDER BY day", [user_id])
    return [str(r["day"]) for r in rows]


def day_gaps(store: DuckDBStore, day: str) -> tuple[int, int, int]:
    """What `day`'s briefings could not include: (conversations not read, threads whose
    classification failed, other records quarantined on ingest).

    A conversation is not read when Slack refused its history (`slack_api` rows naming the method)
    or its day file in an export is no JSON list (`folder/day.json` rows: invalid JSON, not a list,
    a folder that appeared mid-run); every other quarantined row of the day is one record."""
    rows = store.query(
        """WITH q AS (
               SELECT CASE
                   WHEN source = 'slack_api' AND json_valid(raw)
                        AND json_extract_string(raw, '$.method') IS NOT NULL
                   THEN 'api:' || json_extract_string(raw, '$.channel')
                   WHEN source = 'export' AND location LIKE '%/%.json'
                   THEN 'file:' || location END AS unreadable
               FROM quarantine WHERE day = ?)
           SELECT (SELECT count(DISTINCT unreadable) FROM q) AS unreadable,
                  (SELECT count(*) FROM q WHERE unreadable IS NULL) AS quarantined,
                  (SELECT count(DISTINCT subject_id) FROM llm_failures
                   WHERE day = ? AND stage = 'classified_items') AS unclassified""",
        [day, day],
    )
    r = rows[0]
    return int(r["unreadable"]), int(r["unclassified"]), int(r["quarantined"])
