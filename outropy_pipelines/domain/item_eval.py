"""Measuring item classification against hand labels: the labels file, matching, scope, recall,
precision and owner accuracy (`outropy eval items`; the definitions are in data/labels/LABELLING.md).

Pure Python: items in, a report out. A label names one message (`channel_id`, `ts`) and one kind;
a predicted item matches it when the message is one of the item's sources and the kinds agree,
`blocker` and `incident` counting as one family. Recall counts every label; precision counts the
predicted items whose first source lies in the labelled scope (the declared scope lines, or else
every channel-day that holds a label), so a team can label a few days of its own workspace and be
judged on those days only.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from outropy_pipelines.domain.days import day_of_ts, ts_key
from outropy_pipelines.domain.models import ITEM_KINDS, Item

#: kinds that match each other (a blocker predicted as an incident, or the other way round)
BLOCKER_FAMILY = "blocker|incident"
_FAMILY_OF: dict[str, str] = {"blocker": BLOCKER_FAMILY, "incident": BLOCKER_FAMILY}
LABEL_FIELDS = ("channel_id", "ts", "kind", "owner", "note")
_TS_RE = re.compile(r"^\d{1,12}(?:\.\d{1,6})?$")
_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def kind_family(kind: str) -> str:
    """The family a kind is matched within: `blocker|incident` for both, else the kind itself."""
    return _FAMILY_OF.get(kind, kind)


def normalise_ts(ts: str) -> str:
    """A Slack ts in its canonical form (seconds, six decimals): `1700000000.0001` and
    `1700000000.000100` name the same message."""
    seconds, _, fraction = ts.strip().partition(".")
    return f"{int(seconds)}.{(fraction + '000000')[:6]}"


def _ts_order(ts: str) -> Decimal:
    return ts_key(normalise_ts(ts))


# ---------------------------------------------------------------------------------------------
# The labels file
# ---------------------------------------------------------------------------------------------


class LabelError(ValueError):
    """A labels file that cannot be used: `line` is the 1-based line at fault (None: the file)."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.line = line


@dataclass(frozen=True)
class Label:
    channel_id: str
    ts: str  # canonical (normalise_ts)
    kind: str
    owner: str | None = None
    note: str = ""
    line: int = 0

    @property
    def key(self) -> tuple[str, str]:
        return (self.channel_id, self.ts)


@dataclass(frozen=True)
class LabelSet:
    labels: tuple[Label, ...]
    #: the declared (channel_id, day) scope lines; empty when the file has none
    declared_scope: frozenset[tuple[str, str]] = frozenset()

    def scope(self, timezone: str) -> frozenset[tuple[str, str]]:
        """The channel-days labelled exhaustively: the declared ones, else every (channel, day)
        holding a label (days in `timezone`)."""
        if self.declared_scope:
            return self.declared_scope
        return frozenset((lb.channel_id, day_of_ts(lb.ts, timezone)) for lb in self.labels)


def _text(rec: dict[str, Any], name: str, line: int) -> str:
    value = rec.get(name)
    if not isinstance(value, str) or not value.strip():
        shown = "missing" if value is None else f"not a non-empty string ({json.dumps(value)})"
        raise LabelError(line, f"'{name}' is {shown}")
    return value.strip()


def _scope_line(rec: dict[str, Any], line: int) -> tuple[str, str]:
    scope = rec["scope"]
    if len(rec) != 1 or not isinstance(scope, dict) or set(scope) != {"channel_id", "day"}:
        raise LabelError(line, 'a scope line is {"scope": {"channel_id": ..., "day": "YYYY-MM-DD"}}')
    day = _text(scope, "day", line)
    try:
        if not _DAY_RE.match(day):
            raise ValueError
        dt.date.fromisoformat(day)
    except ValueError:
        raise LabelError(line, f"scope day {day!r} is not a date (YYYY-MM-DD)") from None
    return (_text(scope, "channel_id", line), day)


def _label_line(rec: dict[str, Any], line: int) -> Label:
    unknown = sorted(set(rec) - set(LABEL_FIELDS))
    if unknown:
        raise LabelError(
            line,
            f"unknown field {', '.join(repr(u) for u in unknown)} (a label has {', '.join(LABEL_FIELDS)})",
        )
    channel_id = _text(rec, "channel_id", line)
    raw_ts = rec.get("ts")
    if not isinstance(raw_ts, str) or not _TS_RE.match(raw_ts.strip()):
        raise LabelError(
            line, f"'ts' must be a Slack ts string like \"1700000000.000100\", not {json.dumps(raw_ts)}"
        )
    kind = _text(rec, "kind", line)
    if kind not in ITEM_KINDS:
        raise LabelError(line, f"unknown kind {kind!r} (one of {', '.join(ITEM_KINDS)})")
    owner = rec.get("owner")
    if owner is not None and (not isinstance(owner, str) or not owner.strip()):
        raise LabelError(line, f"'owner' must be a user id or null, not {json.dumps(owner)}")
    note = rec.get("note") or ""
    if not isinstance(note, str):
        raise LabelError(line, "'note' must be a string")
    return Label(channel_id, normalise_ts(raw_ts), kind, owner.strip() if owner else None, note, line)


def parse_labels(lines: Iterable[str]) -> LabelSet:
    """The labels and scope lines of a labels file (JSON lines; blank lines are skipped). A line
    that is not a label or a scope line raises `LabelError` naming it."""
    labels: list[Label] = []
    scope: set[tuple[str, str]] = set()
    seen: dict[tuple[str, str, str], int] = {}
    for n, raw in enumerate(lines, 1):
        text = raw.strip()
        if not text:
            continue
        try:
            rec = json.loads(text)
        except ValueError as exc:
            raise LabelError(n, f"not JSON ({exc.args[0] if exc.args else exc})") from None
        if not isinstance(rec, dict):
            raise LabelError(n, "expected a JSON object (a label or a scope line)")
        if "scope" in rec:
            scope.add(_scope_line(rec, n))
            continue
        label = _label_line(rec, n)
        key = (label.channel_id, label.ts, label.kind)
        if key in seen:
            raise LabelError(
                n, f"{label.kind} on {label.channel_id} {label.ts} is already labelled on line {seen[key]}"
            )
        seen[key] = n
        labels.append(label)
    if not labels:
        raise LabelError(None, "no labels in the file (only blank or scope lines)")
    return LabelSet(tuple(labels), frozenset(scope))


# ---------------------------------------------------------------------------------------------
# Scores
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    """One row: labels of the kind and how many a prediction matched; predictions in scope and
    how many matched a label."""

    name: str
    labels: int
    labels_matched: int
    predicted: int
    predicted_matched: int

    @property
    def recall(self) -> float | None:
        return self.labels_matched / self.labels if self.labels else None

    @property
    def precision(self) -> float | None:
        return self.predicted_matched / self.predicted if self.predicted else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.name,
            "labels": self.labels,
            "labels_matched": self.labels_matched,
            "predicted_in_scope": self.predicted,
            "predicted_matched": self.predicted_matched,
            "recall": self.recall,
            "precision": self.precision,
        }


@dataclass(frozen=True)
class Miss:
    """A label no predicted item matched, and the kinds predicted on that message instead."""

    label: Label
    predicted_kinds: tuple[str, ...]


@dataclass(frozen=True)
class FalsePositive:
    """A predicted item in scope that matched no label, where it starts, and the kinds labelled
    on its sources."""

    item: Item
    channel_id: str
    ts: str
    labelled_kinds: tuple[str, ...]


@dataclass
class EvalReport:
    rows: list[Score]  # one per kind (ITEM_KINDS order), then the blocker|incident family
    overall: Score
    owner_checked: int
    owner_correct: int
    misses: list[Miss] = field(default_factory=list)
    false_positives: list[FalsePositive] = field(default_factory=list)
    scope_channel_days: int = 0
    scope_declared: bool = False
    predicted_total: int = 0
    labels_outside_scope: int = 0

    @property
    def owner_accuracy(self) -> float | None:
        return self.owner_correct / self.owner_checked if self.owner_checked else None

    def row(self, name: str) -> Score:
        return next(r for r in self.rows if r.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kinds": [r.to_dict() for r in self.rows],
            "overall": self.overall.to_dict(),
            "owner_accuracy": self.owner_accuracy,
            "owner_checked": self.owner_checked,
            "owner_correct": self.owner_correct,
            "scope_channel_days": self.scope_channel_days,
            "scope_declared": self.scope_declared,
            "predicted_total": self.predicted_total,
            "labels_outside_scope": self.labels_outside_scope,
            "misses": [
                {
                    "channel_id": m.label.channel_id,
                    "ts": m.label.ts,
                    "kind": m.label.kind,
                    "owner": m.label.owner,
                    "note": m.label.note,
                    "line": m.label.line,
                    "predicted_kinds": list(m.predicted_kinds),
                }
                for m in self.misses
            ],
            "false_positives": [
                {
                    "channel_id": f.channel_id,
                    "ts": f.ts,
                    "kind": f.item.kind,
                    "title": f.item.title,
                    "owners": f.item.owners,
                    "item_id": f.item.item_id,
                    "sources": [[s.channel_id, s.ts] for s in f.item.sources],
                    "labelled_kinds": list(f.labelled_kinds),
                }
                for f in self.false_positives
            ],
        }


def first_source(item: Item) -> tuple[str, str] | None:
    """The earliest message an item cites, as (channel_id, canonical ts)."""
    if not item.sources:
        return None
    s = min(item.sources, key=lambda s: _ts_order(s.ts))
    return (s.channel_id, normalise_ts(s.ts))


def evaluate(items: Sequence[Item], labels: LabelSet, timezone: str = "UTC") -> EvalReport:
    """Score predicted `items` against `labels` (see the module docstring); days in `timezone`."""
    scope = labels.scope(timezone)
    by_message: dict[tuple[str, str], list[Item]] = {}
    for item in items:
        for key in {(s.channel_id, normalise_ts(s.ts)) for s in item.sources}:
            by_message.setdefault(key, []).append(item)
    labelled: dict[tuple[str, str], list[Label]] = {}
    for lb in labels.labels:
        labelled.setdefault(lb.key, []).append(lb)

    # labels: matched when some item of the same family cites the message
    matched_labels: set[Label] = set()
    owner_checked = owner_correct = 0
    misses: list[Miss] = []
    for lb in labels.labels:
        on_message = by_message.get(lb.key, [])
        hits = [it for it in on_message if kind_family(it.kind) == kind_family(lb.kind)]
        if not hits:
            misses.append(Miss(lb, tuple(sorted({it.kind for it in on_message}))))
            continue
        matched_labels.add(lb)
        if lb.kind == "action_item" and lb.owner:
            owner_checked += 1
            owners = {o for it in hits if it.kind == "action_item" for o in it.owners}
            owner_correct += lb.owner in owners

    # predictions in scope: matched when one of their sources carries a label of the family
    in_scope: list[Item] = []
    matched_items: set[int] = set()
    false_positives: list[FalsePositive] = []
    for item in items:
        first = first_source(item)
        if first is None or (first[0], day_of_ts(first[1], timezone)) not in scope:
            continue
        in_scope.append(item)
        kinds_here = {
            lb.kind for s in item.sources for lb in labelled.get((s.channel_id, normalise_ts(s.ts)), [])
        }
        if any(kind_family(k) == kind_family(item.kind) for k in kinds_here):
            matched_items.add(id(item))
        else:
            false_positives.append(FalsePositive(item, first[0], first[1], tuple(sorted(kinds_here))))

    def score(name: str, kinds: set[str]) -> Score:
        lbs = [lb for lb in labels.labels if lb.kind in kinds]
        preds = [it for it in in_scope if it.kind in kinds]
        return Score(
            name,
            len(lbs),
            sum(lb in matched_labels for lb in lbs),
            len(preds),
            sum(id(it) in matched_items for it in preds),
        )

    rows = [score(k, {k}) for k in ITEM_KINDS]
    rows.append(score(BLOCKER_FAMILY, {"blocker", "incident"}))
    misses.sort(key=lambda m: (m.label.channel_id, _ts_order(m.label.ts), m.label.kind))
    false_positives.sort(key=lambda f: (f.channel_id, _ts_order(f.ts), f.item.kind))
    return EvalReport(
        rows=rows,
        overall=score("overall", set(ITEM_KINDS)),
        owner_checked=owner_checked,
        owner_correct=owner_correct,
        misses=misses,
        false_positives=false_positives,
        scope_channel_days=len(scope),
        scope_declared=bool(labels.declared_scope),
        predicted_total=len(items),
        labels_outside_scope=sum(
            (lb.channel_id, day_of_ts(lb.ts, timezone)) not in scope for lb in labels.labels
        ),
    )


# ---------------------------------------------------------------------------------------------
# The printed report
# ---------------------------------------------------------------------------------------------


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _clip(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_report(report: EvalReport, limit: int = 20, channel_names: dict[str, str] | None = None) -> str:
    """The report as text: the table per kind, overall, owner accuracy, then the first `limit`
    misses and false positives."""
    names = channel_names or {}

    def where(channel_id: str, ts: str) -> str:
        name = names.get(channel_id)
        return f"{channel_id} {ts}" + (f" (#{name})" if name else "")

    header = f"{'kind':<17} {'labels':>6} {'found':>6} {'predicted':>9} {'correct':>7} {'recall':>6} {'precision':>9}"
    out = [header, "-" * len(header)]

    def line(r: Score) -> str:
        return (
            f"{r.name:<17} {r.labels:>6} {r.labels_matched:>6} {r.predicted:>9} {r.predicted_matched:>7} "
            f"{_ratio(r.recall):>6} {_ratio(r.precision):>9}"
        )

    out += [line(r) for r in report.rows]
    out += ["-" * len(header), line(report.overall)]
    scope = "declared" if report.scope_declared else "the channel-days holding a label"
    out += [
        "",
        "found: labels some predicted item matched; predicted: items whose first source is in scope "
        f"({report.scope_channel_days} channel-days, {scope}); correct: those matching a label; "
        "blocker and incident match each other",
        f"owner accuracy: {_ratio(report.owner_accuracy)} "
        f"({report.owner_correct} of {report.owner_checked} matched action items with a labelled owner)",
        f"items predicted in the whole export: {report.predicted_total}",
    ]
    if report.labels_outside_scope:
        out.append(
            f"labels outside the declared scope: {report.labels_outside_scope} (counted for recall only)"
        )
    out += ["", f"misses: {len(report.misses)} (first {min(limit, len(report.misses))})"]
    for m in report.misses[:limit]:
        instead = f"; predicted there: {', '.join(m.predicted_kinds)}" if m.predicted_kinds else ""
        owner = f" owner {m.label.owner}" if m.label.owner else ""
        note = f" - {_clip(m.label.note, 60)}" if m.label.note else ""
        out.append(f"  {where(m.label.channel_id, m.label.ts)} {m.label.kind}{owner}{instead}{note}")
    out += [
        "",
        f"false positives: {len(report.false_positives)} (first {min(limit, len(report.false_positives))})",
    ]
    for f in report.false_positives[:limit]:
        labelled = f" [labelled: {', '.join(f.labelled_kinds)}]" if f.labelled_kinds else ""
        out.append(f"  {where(f.channel_id, f.ts)} {f.item.kind}: {_clip(f.item.title)}{labelled}")
    return "\n".join(out) + "\n"
