"""`outropy eval items` and its metrics (domain/item_eval.py): matching by source, the
blocker|incident family, scope with and without scope lines, owner accuracy, the labels file's
errors, the command end to end on a built export (local provider, and openai against the fake
server), and the well-formedness of the rcwg development labels (data/labels/rcwg-dev.jsonl)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from outropy_pipelines.cli import main
from outropy_pipelines.domain.days import day_of_ts
from outropy_pipelines.domain.item_eval import (
    BLOCKER_FAMILY,
    Label,
    LabelError,
    LabelSet,
    evaluate,
    normalise_ts,
    parse_labels,
    render_report,
)
from outropy_pipelines.domain.models import ITEM_KINDS, Item, SourceRef
from outropy_pipelines_tests.export_builder import ExportBuilder, ts_at
from outropy_pipelines_tests.fake_openai_server import FakeOpenAIServer, Fault

REPO = Path(__file__).resolve().parents[1]
RCWG_EXPORT = REPO.parent / "shared" / "data" / "slack-export-rcwg"
RCWG_LABELS = REPO / "data" / "labels" / "rcwg-dev.jsonl"
D1, D2, D3 = "2026-03-02", "2026-03-03", "2026-03-04"


def item(kind: str, *sources: tuple[str, str], owners: list[str] | None = None, title: str = "") -> Item:
    return Item(
        day=D1,
        item_id=f"{kind}-{sources[0][1]}",
        thread_id=f"{sources[0][0]}:{sources[0][1]}",
        channel_id=sources[0][0],
        kind=kind,
        title=title or f"a {kind}",
        owners=owners or [],
        provider="test",
        prompt_version="v0",
        sources=[SourceRef(channel_id=c, ts=t) for c, t in sources],
    )


def labels(*lines: dict) -> LabelSet:
    return parse_labels(json.dumps(line) for line in lines)


A, B, C = ts_at(D1, 9), ts_at(D1, 10), ts_at(D1, 11)
LATE = ts_at(D2, 9)


# -- matching --------------------------------------------------------------------------------------
def test_an_item_matches_a_label_on_any_of_its_sources_with_the_same_kind():
    lbs = labels(
        {"channel_id": "C1", "ts": B, "kind": "question"},
        {"channel_id": "C1", "ts": C, "kind": "decision"},
    )
    report = evaluate([item("question", ("C1", A), ("C1", B)), item("question", ("C1", C))], lbs)
    q, d = report.row("question"), report.row("decision")
    assert (q.labels, q.labels_matched, q.predicted, q.predicted_matched) == (1, 1, 2, 1)
    assert (d.labels, d.labels_matched, d.predicted) == (1, 0, 0)  # a question on a decision is no match
    assert [m.label.ts for m in report.misses] == [C] and report.misses[0].predicted_kinds == ("question",)
    assert [(f.ts, f.labelled_kinds) for f in report.false_positives] == [(C, ("decision",))]
    assert (report.overall.recall, report.overall.precision) == (0.5, 0.5)


def test_blocker_and_incident_match_each_other_and_are_reported_per_kind_and_as_a_family():
    lbs = labels(
        {"channel_id": "C1", "ts": A, "kind": "blocker"},
        {"channel_id": "C1", "ts": B, "kind": "incident"},
        {"channel_id": "C1", "ts": C, "kind": "blocker"},
    )
    items = [item("incident", ("C1", A)), item("incident", ("C1", B)), item("question", ("C1", C))]
    report = evaluate(items, lbs)
    blocker, incident, family = report.row("blocker"), report.row("incident"), report.row(BLOCKER_FAMILY)
    assert (blocker.labels, blocker.labels_matched, blocker.predicted) == (2, 1, 0)
    assert (incident.labels, incident.labels_matched, incident.predicted, incident.predicted_matched) == (
        1,
        1,
        2,
        2,
    )
    assert (family.labels, family.labels_matched, family.predicted, family.predicted_matched) == (3, 2, 2, 2)
    assert family.recall == pytest.approx(2 / 3) and family.precision == 1.0
    assert report.overall.labels == 3  # the family row is not counted twice overall


def test_timestamps_are_compared_in_their_canonical_form():
    assert normalise_ts("1700000000.0001") == normalise_ts("1700000000.000100") == "1700000000.000100"
    lbs = labels({"channel_id": "C1", "ts": "1700000000.0001", "kind": "question"})
    report = evaluate([item("question", ("C1", "1700000000.000100"))], lbs)
    assert report.overall.labels_matched == 1 and report.overall.predicted_matched == 1


# -- scope ------------------------------------------------------------------------------------------
def test_declared_scope_decides_which_predictions_precision_judges():
    lbs = labels(
        {"scope": {"channel_id": "C1", "day": D1}},
        {"scope": {"channel_id": "C2", "day": D2}},  # labelled exhaustively: holds no item
        {"channel_id": "C1", "ts": A, "kind": "question"},
        {"channel_id": "C3", "ts": LATE, "kind": "decision"},  # outside the declared scope
    )
    items = [
        item("question", ("C1", A)),  # in scope, matches
        item("status_update", ("C1", B)),  # in scope, no label: a false positive
        item("announcement", ("C2", ts_at(D2, 8))),  # in scope (an empty channel-day): false positive
        item("decision", ("C3", LATE)),  # matches for recall, but not judged for precision
        item("question", ("C1", ts_at(D3, 9))),  # another day: not judged
        item("status_update", ("C1", B), ("C9", ts_at(D1, 8))),  # first source out of scope: not judged
    ]
    report = evaluate(items, lbs)
    assert report.scope_declared and report.scope_channel_days == 2 and report.labels_outside_scope == 1
    assert report.overall.predicted == 3 and report.overall.predicted_matched == 1
    assert report.row("decision").recall == 1.0 and report.row("decision").precision is None
    assert sorted(f.item.kind for f in report.false_positives) == ["announcement", "status_update"]


def test_without_scope_lines_the_scope_is_every_channel_day_holding_a_label():
    lbs = labels(
        {"channel_id": "C1", "ts": A, "kind": "question"},
        {"channel_id": "C2", "ts": LATE, "kind": "decision"},
    )
    assert lbs.scope("UTC") == {("C1", D1), ("C2", D2)}
    items = [
        item("question", ("C1", A)),
        item("action_item", ("C1", C)),  # C1 on D1: judged
        item("action_item", ("C2", ts_at(D1, 9))),  # C2 on D1: no label there, not judged
        item("action_item", ("C1", LATE)),  # C1 on D2: not judged
    ]
    report = evaluate(items, lbs)
    assert not report.scope_declared and report.scope_channel_days == 2
    assert (report.overall.predicted, report.overall.predicted_matched) == (2, 1)
    # the days are the workspace's: 23:30 UTC is the next day in Tokyo
    late_evening = ts_at(D1, 23, 30)
    tokyo = labels({"channel_id": "C1", "ts": late_evening, "kind": "question"})
    assert tokyo.scope("Asia/Tokyo") == {("C1", D2)}
    assert evaluate([item("question", ("C1", late_evening))], tokyo, "Asia/Tokyo").overall.predicted == 1


# -- owners ------------------------------------------------------------------------------------------
def test_owner_accuracy_counts_matched_action_items_with_a_labelled_owner():
    lbs = labels(
        {"channel_id": "C1", "ts": A, "kind": "action_item", "owner": "U1"},
        {"channel_id": "C1", "ts": B, "kind": "action_item", "owner": "U2"},
        {"channel_id": "C1", "ts": C, "kind": "action_item"},  # nobody in particular: not counted
        {"channel_id": "C1", "ts": ts_at(D1, 12), "kind": "action_item", "owner": "U3"},  # missed
    )
    items = [
        item("action_item", ("C1", A), owners=["U9", "U1"]),  # right: among the owners
        item("action_item", ("C1", B), owners=["U1"]),  # wrong owner
        item("action_item", ("C1", C), owners=["U1"]),
        item("question", ("C1", ts_at(D1, 12)), owners=["U3"]),  # not an action item: a miss
    ]
    report = evaluate(items, lbs)
    assert (report.owner_checked, report.owner_correct, report.owner_accuracy) == (2, 1, 0.5)
    assert report.row("action_item").recall == 0.75


def test_the_rendered_report_lists_the_table_then_the_first_misses_and_false_positives():
    lbs = labels(*({"channel_id": "C1", "ts": ts_at(D1, 9, m), "kind": "decision"} for m in range(5)))
    items = [item("status_update", ("C1", ts_at(D1, 10, m)), title=f"update {m}") for m in range(4)]
    text = render_report(evaluate(items, lbs), limit=3, channel_names={"C1": "dev"})
    rows = {line.split()[0] for line in text.splitlines() if line and line.split()[0] in ITEM_KINDS}
    assert rows == set(ITEM_KINDS) and "blocker|incident" in text and "overall" in text
    assert "misses: 5 (first 3)" in text and "false positives: 4 (first 3)" in text
    assert f"C1 {ts_at(D1, 9, 2)} (#dev) decision" in text and f"C1 {ts_at(D1, 9, 3)}" not in text
    assert "status_update: update 2" in text and "update 3" not in text
    assert "owner accuracy: - (0 of 0" in text


# -- the labels file ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lines", "line", "fact"),
    [
        (['{"channel_id": "C1", "ts": "1.000001", "kind": "question"}', "{oops"], 2, "not JSON"),
        (['{"channel_id": "C1", "ts": "1.000001", "kind": "questions"}'], 1, "unknown kind 'questions'"),
        (['{"channel_id": "C1", "ts": 1700000000.0001, "kind": "question"}'], 1, "'ts' must be a Slack ts"),
        (['{"ts": "1.000001", "kind": "question"}'], 1, "'channel_id' is missing"),
        (
            ['{"channel_id": "C1", "ts": "1.1", "kind": "action_item", "onwer": "U1"}'],
            1,
            "unknown field 'onwer'",
        ),
        (['{"channel_id": "C1", "ts": "1.1", "kind": "action_item", "owner": 7}'], 1, "'owner' must be"),
        (['{"scope": {"channel_id": "C1", "day": "2026-02-30"}}'], 1, "is not a date"),
        (['{"scope": {"channel": "C1", "day": "2026-02-03"}}'], 1, "a scope line is"),
        (["[1, 2]"], 1, "expected a JSON object"),
        (
            [
                "",
                '{"channel_id": "C1", "ts": "1.1", "kind": "question"}',
                '{"channel_id": "C1", "ts": "1.100000", "kind": "question"}',
            ],
            3,
            "already labelled on line 2",
        ),
    ],
)
def test_a_malformed_labels_line_is_named(lines, line, fact):
    with pytest.raises(LabelError) as raised:
        parse_labels(lines)
    assert (
        raised.value.line == line
        and str(raised.value).startswith(f"line {line}: ")
        and fact in str(raised.value)
    )


def test_a_labels_file_without_labels_is_refused():
    with pytest.raises(LabelError, match="no labels"):
        parse_labels(["", '{"scope": {"channel_id": "C1", "day": "2026-03-02"}}'])


def test_one_label_per_message_and_kind_but_several_kinds_per_message():
    lbs = labels(
        {"channel_id": "C1", "ts": A, "kind": "blocker"},
        {"channel_id": "C1", "ts": A, "kind": "question", "note": "also asks for help"},
    )
    assert [(lb.kind, lb.line) for lb in lbs.labels] == [("blocker", 1), ("question", 2)]
    assert lbs.labels[1] == Label("C1", A, "question", None, "also asks for help", 2)


# -- the command, end to end ----------------------------------------------------------------------
ANA, BEN, CAI = "U1ANA", "U2BEN", "U3CAI"


def _export(root: Path) -> Path:
    b = ExportBuilder()
    b.user(ANA, "ana")
    b.user(BEN, "ben")
    b.user(CAI, "cai")
    b.channel("C1DEV", "dev", [ANA, BEN, CAI])
    b.channel("C2OPS", "ops", [ANA, BEN, CAI])
    b.post("C1DEV", ts_at(D1, 9), ANA, f"<@{BEN}> can you review the parser patch by Friday?")
    b.post("C1DEV", ts_at(D1, 9, 5), BEN, "Sure, I will review it tomorrow.", thread_ts=ts_at(D1, 9))
    b.post("C1DEV", ts_at(D1, 10), CAI, "How do I run the regression tests on Windows?")
    b.post(
        "C1DEV",
        ts_at(D1, 11),
        ANA,
        "We decided to drop support for the old build system in the next release.",
    )
    b.post(
        "C1DEV", ts_at(D1, 12), BEN, "The nightly build fails with a segfault in the test suite, I'm blocked."
    )
    b.post("C1DEV", ts_at(D1, 13), CAI, "thanks everyone!")
    b.post("C1DEV", ts_at(D1, 14), CAI, "The translation patch is merged.")
    b.post("C2OPS", ts_at(D2, 9), ANA, "The bug tracker is down for everyone, returns 503.")
    b.post(
        "C2OPS",
        ts_at(D2, 10),
        BEN,
        "Reminder: the contributor meetup is on Thursday at 15:00 UTC, all welcome!",
    )
    b.post("C2OPS", ts_at(D2, 11), CAI, f"<@{ANA}> please update the release notes before the meetup.")
    return b.write(root / "export")


LABELS = [
    {"scope": {"channel_id": "C1DEV", "day": D1}},
    {"channel_id": "C1DEV", "ts": ts_at(D1, 9), "kind": "action_item", "owner": BEN},
    {"channel_id": "C1DEV", "ts": ts_at(D1, 10), "kind": "question"},
    {"channel_id": "C1DEV", "ts": ts_at(D1, 11), "kind": "decision"},
    {
        "channel_id": "C1DEV",
        "ts": ts_at(D1, 12),
        "kind": "incident",
        "note": "labelled incident, a blocker matches",
    },
    {
        "channel_id": "C1DEV",
        "ts": ts_at(D1, 13),
        "kind": "announcement",
        "note": "no item there: a sure miss",
    },
    {"channel_id": "C2OPS", "ts": ts_at(D2, 9), "kind": "blocker", "note": "outside the declared scope"},
    {"channel_id": "C9GONE", "ts": ts_at(D1, 9), "kind": "question", "note": "not in the export"},
]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in ("OUTROPY_LLM_PROVIDER", "OPENAI_API_KEY", "OPENAI_BASE_URL", "OUTROPY_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OUTROPY_TIMEZONE", "UTC")
    monkeypatch.setenv("OUTROPY_LOG_LEVEL", "INFO")
    yield tmp_path


def _write_labels(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def _items_of(path: Path) -> list[Item]:
    out = []
    for line in path.read_text().splitlines():
        r = json.loads(line)
        out.append(
            Item(
                day=r["day"],
                item_id=r["item_id"],
                thread_id=r["thread_id"],
                channel_id=r["channel_id"],
                kind=r["kind"],
                title=r["title"],
                owners=r["owners"],
                provider="items",
                prompt_version="-",
                sources=[SourceRef(**s) for s in r["sources"]],
            )
        )
    return out


def test_eval_items_end_to_end_with_the_local_provider(env, capsys):
    export = _export(env)
    labels_file = _write_labels(env / "labels.jsonl", LABELS)
    code = main(["eval", "items", str(export), str(labels_file), "--json", str(env / "report.json")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "provider local" in out and "owner accuracy: 1.00 (1 of 1 " in out
    assert "labels outside the declared scope: 2" in out
    warnings = [line for line in err.splitlines() if line.startswith("outropy: warning")]
    assert len(warnings) == 1 and "1 of 7 labels" in warnings[0] and "line 8, C9GONE" in warnings[0]
    report = json.loads((env / "report.json").read_text())
    rows = {r["kind"]: r for r in report["kinds"]}
    # the action item to Ben is found, with its owner; the decision too
    assert rows["action_item"]["labels_matched"] == 1 and rows["decision"]["labels_matched"] == 1
    # a blocker predicted on the message labelled incident matches (family), in scope
    assert rows["incident"]["labels_matched"] == 1 and rows["blocker"]["predicted_matched"] >= 1
    # the labelled blocker in #ops is found by the incident predicted there, which is out of scope
    assert rows["blocker"]["labels_matched"] == 1 and rows["incident"]["predicted_in_scope"] == 0
    missed = {(m["channel_id"], m["ts"], m["kind"]) for m in report["misses"]}
    assert {("C1DEV", ts_at(D1, 13), "announcement"), ("C9GONE", ts_at(D1, 9), "question")} <= missed
    assert any(f["ts"] == ts_at(D1, 14) and f["kind"] == "status_update" for f in report["false_positives"])
    assert all(
        day_of_ts(f["ts"], "UTC") == D1 and f["channel_id"] == "C1DEV" for f in report["false_positives"]
    )

    # the command scores exactly what `outropy items` finds on the same export
    assert main(["items", str(export), "--out", str(env / "items.jsonl")]) == 0
    expected = evaluate(_items_of(env / "items.jsonl"), parse_labels(labels_file.read_text().splitlines()))
    assert report["kinds"] == [r.to_dict() for r in expected.rows]
    assert report["overall"] == expected.overall.to_dict()
    assert report["predicted_total"] == len(_items_of(env / "items.jsonl"))


def test_eval_items_with_the_openai_provider_against_an_openai_compatible_server(env, capsys, monkeypatch):
    export = _export(env)
    labels_file = _write_labels(env / "labels.jsonl", LABELS[:3])
    with FakeOpenAIServer() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-eval")
        monkeypatch.setenv("OUTROPY_LLM_MODEL", "fake-model")
        code = main(["eval", "items", str(export), str(labels_file), "--provider", "openai"])
        out, err = capsys.readouterr()
        requests = [r for r in server.requests if r.schema_name == "ClassifyThreadOutput"]
    assert code == 0, err
    assert "provider openai" in out
    assert requests and all(r.headers.get("authorization") == "Bearer sk-test-eval" for r in requests)
    assert {r.body.get("model") for r in requests} == {"fake-model"}
    # the fake model calls every message ending in "?" a question: the request to Ben is a question
    # (missed as an action item, a false positive as a question), the question is found
    rows = {
        line.split()[0]: line.split()
        for line in out.splitlines()
        if line.split()[:1] and line.split()[0] in ITEM_KINDS
    }
    assert rows["question"][1:3] == ["1", "1"] and rows["action_item"][1:3] == ["1", "0"]
    assert re.search(rf"C1DEV {re.escape(ts_at(D1, 9))} \(#dev\) question: ", out)


def test_eval_items_with_the_openai_provider_and_no_key_or_server_is_one_line(env, capsys):
    export = _export(env)
    labels_file = _write_labels(env / "labels.jsonl", LABELS[:2])
    code = main(["eval", "items", str(export), str(labels_file), "--provider", "openai"])
    _, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in err
    assert err.strip().splitlines() == [err.strip()] and "OPENAI_API_KEY" in err


def test_eval_items_with_refused_credentials_is_one_line(env, capsys, monkeypatch):
    export = _export(env)
    labels_file = _write_labels(env / "labels.jsonl", LABELS[:2])
    with FakeOpenAIServer() as server:
        server.add(Fault.status(401, times=None))
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
        code = main(["eval", "items", str(export), str(labels_file), "--provider", "openai"])
    out, err = capsys.readouterr()
    assert code == 1 and out == "" and "Traceback" not in err
    assert err.strip().splitlines() == [err.strip()] and "refused the credentials (HTTP 401)" in err


@pytest.mark.parametrize(
    ("content", "fact"),
    [
        (
            '{"channel_id": "C1DEV", "ts": "1772442000.000100", "kind": "question"}\nnot json\n',
            "line 2: not JSON",
        ),
        (
            '{"channel_id": "C1DEV", "ts": "1772442000.000100", "kind": "todo"}\n',
            "line 1: unknown kind 'todo'",
        ),
        ("\n\n", "no labels in the file"),
    ],
)
def test_a_malformed_labels_file_is_one_line_naming_the_line(env, capsys, content, fact):
    export = _export(env)
    (env / "bad.jsonl").write_text(content, encoding="utf-8")
    code = main(["eval", "items", str(export), str(env / "bad.jsonl")])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"outropy: {env / 'bad.jsonl'}: ") and fact in lines[0]


def test_a_missing_labels_file_or_export_is_a_usage_error(env, capsys):
    export = _export(env)
    code = main(["eval", "items", str(export), str(env / "nope.jsonl")])
    _, err = capsys.readouterr()
    assert code == 2 and "nope.jsonl does not exist" in err and len(err.strip().splitlines()) == 1
    labels_file = _write_labels(env / "labels.jsonl", LABELS[:2])
    code = main(["eval", "items", str(env / "no-export"), str(labels_file)])
    _, err = capsys.readouterr()
    assert code == 2 and "Slack export not found" in err and len(err.strip().splitlines()) == 1


# -- the rcwg development set ----------------------------------------------------------------------
def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


@pytest.mark.skipif(
    not RCWG_EXPORT.is_dir(), reason=f"the rcwg Slack export is not here ({RCWG_EXPORT}: ../shared is absent)"
)
def test_the_rcwg_labels_are_well_formed():
    from outropy_pipelines.adapters.slack_export_reader import SlackExportReader

    lbs = parse_labels(RCWG_LABELS.read_text(encoding="utf-8").splitlines())
    texts = {
        (m["channel_id"], normalise_ts(m["ts"])): m["text"] or ""
        for m in SlackExportReader(RCWG_EXPORT).iter_all_messages()
    }
    users = {u["id"] for u in json.loads((RCWG_EXPORT / "users.json").read_text(encoding="utf-8"))}
    assert len(lbs.labels) >= 250
    assert {lb.kind for lb in lbs.labels} == set(ITEM_KINDS)
    for kind in ("question", "decision", "action_item"):
        assert sum(lb.kind == kind for lb in lbs.labels) >= 25, kind
    assert sum(lb.kind in ("blocker", "incident") for lb in lbs.labels) >= 25
    assert len({c for c, _ in lbs.declared_scope}) >= 15
    for lb in lbs.labels:
        assert lb.key in texts, f"line {lb.line}: {lb.channel_id} {lb.ts} is not a message of the export"
        assert (lb.channel_id, day_of_ts(lb.ts, "UTC")) in lbs.declared_scope, (
            f"line {lb.line}: outside the scope"
        )
        if lb.owner is not None:
            assert lb.kind == "action_item" and lb.owner in users, f"line {lb.line}: owner {lb.owner}"
        # notes are the labeller's own words: short, and never five words in a row of the message
        assert len(lb.note) <= 100, f"line {lb.line}: note too long"
        message = f" {' '.join(_words(texts[lb.key]))} "
        note = _words(lb.note)
        grams = (" ".join(note[i : i + 5]) for i in range(len(note) - 4))
        copied = [g for g in grams if f" {g} " in message]
        assert not copied, f"line {lb.line}: the note copies the message: {copied[0]!r}"
    assert sum(lb.kind == "action_item" and lb.owner is not None for lb in lbs.labels) >= 25
    # every scope channel-day is one of the export's conversations, on a day it has messages
    days = {(c, day_of_ts(ts, "UTC")) for c, ts in texts}
    assert lbs.declared_scope <= days


@pytest.mark.skipif(
    not RCWG_EXPORT.is_dir(), reason=f"the rcwg Slack export is not here ({RCWG_EXPORT}: ../shared is absent)"
)
def test_the_local_classifier_meets_the_targets_on_the_rcwg_development_set(env):
    """The issue's targets, on the hand-labelled development set: recall >= 0.75 and precision >=
    0.65 overall, recall >= 0.6 for questions, blockers (with incidents) and decisions, owner
    accuracy >= 0.9. A change to the rules that loses any of them fails here."""
    out = env / "rcwg.json"
    assert main(["eval", "items", str(RCWG_EXPORT), str(RCWG_LABELS), "--json", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    rows = {row["kind"]: row for row in report["kinds"]}
    assert report["overall"]["recall"] >= 0.75 and report["overall"]["precision"] >= 0.65, report["overall"]
    for kind in ("question", "blocker|incident", "decision"):
        assert rows[kind]["recall"] >= 0.6, rows[kind]
    assert report["owner_accuracy"] >= 0.9, report["owner_checked"]
