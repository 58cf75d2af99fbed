"""What a run of the pipeline produced, day by day, for the progress lines of `outropy run`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from outropy_pipelines.store.duckdb_store import DuckDBStore, list_param, unnested


def day_counts(store: DuckDBStore, days: Sequence[str]) -> list[dict[str, Any]]:
    """Per day: messages, conversations and new items."""
    return store.query(
        f"""SELECT CAST(d.day AS VARCHAR) AS day,
                  (SELECT count(*) FROM raw_messages r WHERE r.day = d.day) AS messages,
                  (SELECT count(*) FROM threads t WHERE t.day = d.day) AS threads,
                  (SELECT count(*) FROM items i WHERE i.day = d.day AND i.is_new) AS items
           FROM (SELECT CAST({unnested()} AS DATE) AS day) d ORDER BY day""",
        [list_param(days)],
    )


def briefings_per_day(store: DuckDBStore, days: Sequence[str]) -> list[dict[str, Any]]:
    """Per day with briefings: how many, their lines, and the reader with the most lines."""
    return store.query(
        f"""SELECT CAST(day AS VARCHAR) AS day, count(*) AS n, sum(item_count) AS lines,
                  arg_max(user_id, item_count) AS busiest
           FROM briefings WHERE day IN (SELECT CAST({unnested()} AS DATE)) GROUP BY day ORDER BY day""",
        [list_param(days)],
    )
