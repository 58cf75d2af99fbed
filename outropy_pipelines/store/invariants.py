"""Invariants of the stored data, as SQL counts of violations (0 = holds): what the asset checks report.

The delivery ledger's own (`duplicate_deliveries`, `failed_deliveries`) are in `store/deliveries.py`.
"""

from __future__ import annotations

from collections.abc import Sequence

from outropy_pipelines.store.duckdb_store import DuckDBStore, list_param, unnested


def thread_messages_missing_from_raw(store: DuckDBStore, days: Sequence[str]) -> int:
    """Thread messages that are not messages of raw_messages."""
    return int(
        store.scalar(
            f"""SELECT count(*) FROM thread_messages t
               WHERE t.day IN (SELECT CAST({unnested()} AS DATE))
               AND NOT EXISTS (SELECT 1 FROM raw_messages r WHERE r.channel_id = t.channel_id AND r.ts = t.ts)""",
            [list_param(days)],
        )
    )


def items_without_sources(store: DuckDBStore, days: Sequence[str]) -> int:
    """Items that cite no message, or cite a message that is not in raw_messages."""
    return int(
        store.scalar(
            f"""SELECT count(*) FROM items i
               WHERE i.day IN (SELECT CAST({unnested()} AS DATE))
               AND (NOT EXISTS (SELECT 1 FROM item_sources s WHERE s.day = i.day AND s.item_id = i.item_id)
                    OR EXISTS (SELECT 1 FROM item_sources s WHERE s.day = i.day AND s.item_id = i.item_id
                               AND NOT EXISTS (SELECT 1 FROM raw_messages r
                                               WHERE r.channel_id = s.channel_id AND r.ts = s.ts)))""",
            [list_param(days)],
        )
    )


def briefing_lines_not_visible(store: DuckDBStore, days: Sequence[str]) -> int:
    """Briefing lines citing a message of a private channel, DM or group DM the reader is not in."""
    return int(
        store.scalar(
            f"""WITH line_sources AS (
                   SELECT l.day, l.user_id, json_extract_string(src.value, '$.channel_id') AS channel_id
                   FROM briefing_lines l, json_each(l.sources) src
                   WHERE l.day IN (SELECT CAST({unnested()} AS DATE))
                   UNION ALL
                   SELECT l.day, l.user_id, l.channel_id FROM briefing_lines l
                   WHERE l.day IN (SELECT CAST({unnested()} AS DATE)))
               SELECT count(*) FROM line_sources s
               LEFT JOIN channels c ON c.channel_id = s.channel_id
               WHERE coalesce(c.kind, 'unknown') <> 'public'
               AND NOT EXISTS (SELECT 1 FROM channel_members m
                               WHERE m.channel_id = s.channel_id AND m.user_id = s.user_id)""",
            [list_param(days), list_param(days)],
        )
    )
