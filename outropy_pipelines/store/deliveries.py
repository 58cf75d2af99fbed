"""The delivery ledger (`deliveries`): one row per (day, user, channel), and what can be delivered.

Reads and writes only; what a row means and when it is due is `domain/delivery_plan.py`'s
business (`decide`), applied by `stages/delivery.py`.

Every write is one transaction of the store (`in_transaction`; on the DuckLake store retried on a
write conflict) that reads the row before writing it: an INSERT only where the row is missing, an
UPDATE or DELETE by its key. Nothing here relies on the primary key the DuckDB file declares (no
ON CONFLICT, no upsert): the DuckLake store has none, and one row per key holds there because the
ledger has one writer, the single deliver run the run queue lets go at a time (README, "Running at
scale").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb

from outropy_pipelines.domain.delivery_plan import LedgerRow, Outgoing, delivery_key
from outropy_pipelines.store.duckdb_store import DuckDBStore, list_param, unnested

LEDGER_COLUMNS = (
    "day",
    "user_id",
    "channel",
    "status",
    "attempts",
    "last_error",
    "sent_at",
    "external_id",
    "content_hash",
    "next_attempt_at",
    "address",
    "updated_at",
    "claimed_by",
    "in_doubt",
)
_LEDGER_SELECT = ", ".join(f"d.{c}" for c in LEDGER_COLUMNS)


def _row(values: Sequence[Any]) -> LedgerRow:
    r = dict(zip(LEDGER_COLUMNS, values, strict=True))
    return LedgerRow(
        day=str(r["day"]),
        user_id=r["user_id"],
        channel=r["channel"],
        status=r["status"],
        attempts=int(r["attempts"] or 0),
        last_error=r["last_error"],
        sent_at=r["sent_at"],
        external_id=r["external_id"],
        content_hash=r["content_hash"],
        next_attempt_at=r["next_attempt_at"],
        address=r["address"],
        updated_at=r["updated_at"],
        claimed_by=r["claimed_by"],
        in_doubt=bool(r["in_doubt"]),
    )


# -- one row, inside a caller's transaction ------------------------------------------------------


def read_row(con: duckdb.DuckDBPyConnection, day: str, user_id: str, channel: str) -> LedgerRow | None:
    found = con.execute(
        f"SELECT {', '.join(LEDGER_COLUMNS)} FROM deliveries WHERE day = CAST(? AS DATE) AND user_id = ? "
        "AND channel = ?",
        [day, user_id, channel],
    ).fetchone()
    return _row(found) if found else None


def write_row(con: duckdb.DuckDBPyConnection, row: LedgerRow, exists: bool) -> None:
    values = [getattr(row, c) for c in LEDGER_COLUMNS]
    if exists:
        sets = ", ".join(f"{c} = ?" for c in LEDGER_COLUMNS[3:])
        con.execute(
            f"UPDATE deliveries SET {sets} WHERE day = CAST(? AS DATE) AND user_id = ? AND channel = ?",
            values[3:] + values[:3],
        )
    else:
        marks = ", ".join("?" for _ in LEDGER_COLUMNS)
        con.execute(f"INSERT INTO deliveries ({', '.join(LEDGER_COLUMNS)}) VALUES ({marks})", values)


def delete_row(con: duckdb.DuckDBPyConnection, row: LedgerRow) -> None:
    con.execute(
        "DELETE FROM deliveries WHERE day = CAST(? AS DATE) AND user_id = ? AND channel = ?",
        [row.day, row.user_id, row.channel],
    )


def record(store: DuckDBStore, row: LedgerRow) -> None:
    """Write one ledger row now (its own short transaction)."""
    store.in_transaction(
        lambda con: write_row(con, row, read_row(con, row.day, row.user_id, row.channel) is not None)
    )


def write_rows(store: DuckDBStore, rows: Sequence[LedgerRow]) -> None:
    """Update existing ledger rows, in one transaction."""
    if not rows:
        return

    def update(con: duckdb.DuckDBPyConnection) -> None:
        for row in rows:
            write_row(con, row, exists=True)

    store.in_transaction(update)


# -- the whole ledger ----------------------------------------------------------------------------


def read_ledger(store: DuckDBStore, days: Sequence[str] | None = None) -> list[LedgerRow]:
    where, params = "", []
    if days:
        where, params = f"WHERE day IN (SELECT CAST({unnested()} AS DATE))", [list_param(days)]
    with store.connect() as con:
        rows = con.execute(
            f"SELECT {', '.join(LEDGER_COLUMNS)} FROM deliveries {where} ORDER BY day, user_id, channel",
            params,
        ).fetchall()
    return [_row(r) for r in rows]


def duplicate_deliveries(store: DuckDBStore) -> int:
    """(day, user, channel) keys delivered more than once."""
    return int(
        store.scalar(
            """SELECT count(*) FROM (SELECT day, user_id, channel FROM deliveries WHERE status = 'sent'
               GROUP BY ALL HAVING count(*) > 1)"""
        )
    )


def failed_deliveries(store: DuckDBStore, days: Sequence[str] | None = None) -> int:
    """Deliveries that gave up (`failed`) or whose outcome is unknown after a crash (`unknown`)."""
    if days:
        return int(
            store.scalar(
                f"""SELECT count(*) FROM deliveries WHERE status IN ('failed', 'unknown')
                   AND day IN (SELECT CAST({unnested()} AS DATE))""",
                [list_param(days)],
            )
        )
    return int(store.scalar("SELECT count(*) FROM deliveries WHERE status IN ('failed', 'unknown')"))


# -- what could be delivered -----------------------------------------------------------------------


def candidates(
    store: DuckDBStore,
    channels: Sequence[str],
    *,
    first_day: str | None = None,
    days: Sequence[str] | None = None,
    users: Sequence[str] | None = None,
) -> list[tuple[str, str | None, LedgerRow | None]]:
    """Every stored briefing x channel its reader subscribed to, within the scope (`first_day` on,
    `days`, `users`), as (delivery key, the briefing's content hash, its ledger row or None), in
    key order. Whether one is due is not decided here (`delivery_plan.decide`)."""
    if not channels:
        return []
    params: list[Any] = [list_param(channels)]
    clauses = [f"w.channel IN (SELECT {unnested()})"]
    if first_day is not None:
        clauses.append("b.day >= CAST(? AS DATE)")
        params.append(first_day)
    if days:
        clauses.append(f"b.day IN (SELECT CAST({unnested()} AS DATE))")
        params.append(list_param(days))
    if users:
        clauses.append(f"b.user_id IN (SELECT {unnested()})")
        params.append(list_param(users))
    sql = f"""
        WITH wanted AS (
            SELECT user_id, 'slack' AS channel FROM subscriptions WHERE active AND slack
            UNION ALL
            SELECT user_id, 'email' AS channel FROM subscriptions WHERE active AND email)
        SELECT CAST(b.day AS VARCHAR), b.user_id, w.channel, b.content_hash, d.status IS NOT NULL,
               {_LEDGER_SELECT}
        FROM briefings b
        JOIN wanted w ON w.user_id = b.user_id
        LEFT JOIN deliveries d ON d.day = b.day AND d.user_id = b.user_id AND d.channel = w.channel
        WHERE {" AND ".join(clauses)}
        ORDER BY 1, 2, 3"""
    with store.connect() as con:
        rows = con.execute(sql, params).fetchall()
    return [
        (delivery_key(day, user_id, channel), content_hash, _row(rest) if has_row else None)
        for day, user_id, channel, content_hash, has_row, *rest in rows
    ]


def email_addresses(store: DuckDBStore, user_ids: Sequence[str]) -> dict[str, str | None]:
    """The address each reader's email goes to (their subscription's), by user id."""
    if not user_ids:
        return {}
    rows = store.query(
        f"SELECT user_id, email_address FROM subscriptions WHERE user_id IN (SELECT {unnested()})",
        [list_param(sorted(set(user_ids)))],
    )
    return {r["user_id"]: r["email_address"] for r in rows}


def reader_timing(store: DuckDBStore, user_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each reader's own delivery window as stored: the directory's time zone (`tz`, from
    users.json / users.info) and the subscription's `delivery_hour`, `quiet_hours`, `weekend`
    (None where unset), by user id."""
    if not user_ids:
        return {}
    rows = store.query(
        f"""SELECT s.user_id, u.tz, s.delivery_hour, s.quiet_hours, s.weekend
           FROM subscriptions s LEFT JOIN users u ON u.user_id = s.user_id
           WHERE s.user_id IN (SELECT {unnested()})""",
        [list_param(sorted(set(user_ids)))],
    )
    return {r.pop("user_id"): r for r in rows}


def outgoing(
    store: DuckDBStore, keys: Sequence[tuple[str, str, str]]
) -> dict[tuple[str, str, str], Outgoing]:
    """What to send for each (day, user, channel): the stored briefing and the reader's address."""
    if not keys:
        return {}
    sql = f"""
        WITH wanted AS (SELECT CAST(k.day AS DATE) AS day, k.user_id, k.channel
                        FROM (SELECT {unnested("STRUCT(day VARCHAR, user_id VARCHAR, channel VARCHAR)", recursive=True)}) k)
        SELECT CAST(b.day AS VARCHAR) AS day, b.user_id, w.channel, b.user_name, b.content_hash,
               b.markdown, b.plain_text, b.html, b.blocks_json,
               CASE WHEN w.channel = 'email' THEN s.email_address END AS email_address
        FROM wanted w
        JOIN briefings b ON b.day = w.day AND b.user_id = w.user_id
        LEFT JOIN subscriptions s ON s.user_id = b.user_id"""
    structs = [{"day": d, "user_id": u, "channel": c} for d, u, c in keys]
    out: dict[tuple[str, str, str], Outgoing] = {}
    for r in store.query(sql, [list_param(structs)]):
        out[(r["day"], r["user_id"], r["channel"])] = outgoing_from(r)
    return out


def outgoing_from(r: Mapping[str, Any]) -> Outgoing:
    return Outgoing(
        day=r["day"],
        user_id=r["user_id"],
        user_name=r["user_name"] or r["user_id"],
        channel=r["channel"],
        content_hash=r["content_hash"],
        markdown=r["markdown"] or "",
        plain_text=r["plain_text"] or "",
        html=r["html"] or "",
        blocks_json=r["blocks_json"] or "[]",
        email_address=r.get("email_address"),
    )


def utcnow() -> dt.datetime:
    """Naive UTC, as stored in the ledger's TIMESTAMP columns."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
