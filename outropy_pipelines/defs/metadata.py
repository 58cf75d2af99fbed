"""What a materialization shows in the UI: counts as tables, check results, a briefing's preview."""

from __future__ import annotations

from collections.abc import Mapping

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    MetadataValue,
    TableColumn,
    TableRecord,
    TableSchema,
)

from outropy_pipelines.domain.models import PAGE_SECTIONS, Briefing
from outropy_pipelines.domain.reader_feedback import Applied

PREVIEW_CHARS = 6000


def zero_check(name: str, label: str, violations: int, warn: bool = False) -> AssetCheckResult:
    """A check that passes when its count of violations is zero; `warn` for WARN severity."""
    return AssetCheckResult(
        check_name=name,
        passed=violations == 0,
        severity=AssetCheckSeverity.WARN if warn else AssetCheckSeverity.ERROR,
        metadata={label: violations},
    )


def counts_table(key: str, value: str, counts: Mapping[str, int]) -> MetadataValue:
    """{name: count} as a two-column table, sorted by name."""
    schema = TableSchema(columns=[TableColumn(key, "string"), TableColumn(value, "int")])
    records = [TableRecord({key: name, value: int(n)}) for name, n in sorted(counts.items())]
    return MetadataValue.table(records, schema=schema)


def briefing_metadata(b: Briefing) -> dict[str, object]:
    """One reader's briefing of one day: its size per section and the Markdown as a preview."""
    text = b.markdown
    if len(text) > PREVIEW_CHARS:
        text = text[:PREVIEW_CHARS] + "\n\n…(truncated)"
    per_section = {section: 0 for section in PAGE_SECTIONS}
    for line in b.lines:
        per_section[line.section] = per_section.get(line.section, 0) + 1
    metadata: dict[str, object] = {
        "reader": f"{b.user_name} ({b.user_id})",
        "lines": len(b.lines),
        **{f"lines_{section}": n for section, n in per_section.items()},
    }
    if b.preferences:  # what the reader's own preferences did (domain/reader_preferences.py)
        metadata["preferences"] = counts_table("preference", "count", b.preferences)
        metadata["lines_left_out"] = b.preferences.get("lines_left_out", 0)
    metadata["preview"] = MetadataValue.md(text)
    return metadata


def feedback_metadata(applied: Applied) -> dict[str, object]:
    """What a reader's feedback changed in their briefing: events counted, lines moved, leanings."""
    return {
        "feedback_events": applied.events,
        "feedback_adjusted_lines": applied.adjusted_lines,
        "feedback_demoted_lines": applied.demoted,
        "feedback_promoted_lines": applied.promoted,
        "feedback_leanings": MetadataValue.json(applied.leanings),
    }
