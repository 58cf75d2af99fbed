from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from outropy_pipelines.domain.conversation_features import FEATURE_NAMES
from outropy_pipelines.domain.conversation_messages import TopLevelMessage
from outropy_pipelines.domain.conversation_model import DEFAULT_MODEL_PATH, load_model
from outropy_pipelines.domain.conversation_reconstruction import ConversationReconstructor

SHARED = Path(__file__).resolve().parents[2] / "shared"
IRC = SHARED / "data" / "irc-disentanglement"

ALICE, BOB, CAROL, DAVE, ERIN = "U0000001", "U0000002", "U0000003", "U0000004", "U0000005"
NAMES = {ALICE: "alice", BOB: "bob", CAROL: "carol", DAVE: "dave", ERIN: "erin"}


def msgs(rows: list[tuple], start: float = 1_700_000_000.0, step: float = 20.0) -> list[TopLevelMessage]:
    out = []
    for k, row in enumerate(rows):
        user, text, *rest = row
        subtype = rest[0] if rest else None
        root = rest[1] if len(rest) > 1 else False
        out.append(TopLevelMessage(f"{start + k * step:.6f}", user, text, subtype, root))
    return out


@pytest.fixture(scope="module")
def recon() -> ConversationReconstructor:
    return ConversationReconstructor(user_names=NAMES)


def test_interleaved_conversations_are_separated(recon):
    seq = msgs(
        [
            (ALICE, "the docker build on CI fails with a cache error since this morning"),
            (CAROL, "anyone up for lunch at the thai place today?"),
            (f"{BOB}", f"<@{ALICE}> which runner? the docker cache volume was pruned last night"),
            (DAVE, f"<@{CAROL}> sure, thai sounds good, 12:30?"),
            (ALICE, f"<@{BOB}> runner-3, the cache error shows on every docker build"),
            (CAROL, f"<@{DAVE}> 12:30 works, I'll book a table for lunch"),
            (BOB, f"<@{ALICE}> ok, I'll rebuild the cache volume on runner-3"),
            (DAVE, f"<@{CAROL}> great, see you at lunch"),
        ]
    )
    roots = recon.assign(seq)
    docker = {roots[i] for i in (0, 2, 4, 6)}
    lunch = {roots[i] for i in (1, 3, 5, 7)}
    assert docker == {seq[0].ts}
    assert lunch == {seq[1].ts}


def test_reply_by_mention_links_to_mentioned_author(recon):
    seq = msgs(
        [
            (ALICE, "how do I rotate the staging database credentials?"),
            (BOB, "deploy of the billing service finished"),
            (CAROL, "is the wifi slow for anyone else?"),
            (ERIN, "the billing dashboards look fine after the deploy"),
            (DAVE, f"<@{ALICE}> run the rotate-secrets job in the ops pipeline"),
        ]
    )
    assert recon.link(seq)[4] == 0


def test_name_addressing_from_user_names(recon):
    seq = msgs(
        [
            (ALICE, "anyone know why grafana alerts stopped?"),
            (BOB, "pushing the release branch now"),
            (CAROL, "release notes are in the wiki"),
            (DAVE, "alice: the alertmanager pod was evicted, grafana alerts should be back"),
        ]
    )
    assert recon.link(seq)[3] == 0


def test_join_and_leave_messages_are_their_own_conversation(recon):
    seq = msgs(
        [
            (ALICE, "the nightly export job failed again"),
            (BOB, f"<@{BOB}> has joined the channel", "channel_join"),
            (BOB, f"<@{ALICE}> looking at the export job logs now"),
            (CAROL, f"<@{CAROL}> has left the channel", "channel_leave"),
            (ALICE, f"<@{BOB}> thanks, it failed at the upload step"),
        ]
    )
    links = recon.link(seq)
    assert links[1] == 1 and links[3] == 3
    assert 1 not in links[2:] and 3 not in links[4:]
    roots = recon.assign(seq)
    assert roots[1] == seq[1].ts and roots[3] == seq[3].ts
    assert roots[2] == roots[4] == seq[0].ts


def test_thread_root_is_own_conversation_and_can_be_answered(recon):
    seq = msgs(
        [
            (ALICE, "the payments api returns 502 since the deploy"),
            (BOB, "RFC: move the weekly sync to thursdays", None, True),
            (CAROL, f"<@{BOB}> thursdays work for me"),
        ]
    )
    links = recon.link(seq)
    assert links[1] == 1
    assert links[2] == 1


def _synthetic(n: int) -> list[TopLevelMessage]:
    users = [ALICE, BOB, CAROL, DAVE, ERIN]
    topics = ["docker cache", "lunch menu", "release notes", "vpn access", "grafana alerts"]
    rows = []
    for k in range(n):
        u = users[(k * 7 + k // 3) % 5]
        t = topics[(k * 3 + k // 4) % 5]
        if k % 11 == 5:
            rows.append((u, f"<@{u}> has joined the channel", "channel_join"))
        elif k % 4 == 1:
            rows.append((u, f"<@{users[(k + 2) % 5]}> what about the {t}?"))
        else:
            rows.append((u, f"I think the {t} needs work {k}"))
    return msgs(rows, step=37.0)


def test_causal_prefix_results_do_not_change(recon):
    seq = _synthetic(700)  # longer than one scoring chunk
    full = recon.link(seq)
    assert all(0 <= j <= i for i, j in enumerate(full))
    assert any(j != i for i, j in enumerate(full))
    for k in (1, 2, 17, 101, 513, 650):
        assert recon.link(seq[:k]) == full[:k]
    full_roots = recon.assign(seq)
    assert recon.assign(seq[:300]) == full_roots[:300]


def test_empty_input(recon):
    assert recon.link([]) == []
    assert recon.assign([]) == []


def test_model_file_loads():
    assert DEFAULT_MODEL_PATH.exists()
    assert DEFAULT_MODEL_PATH.stat().st_size < 200 * 1024
    data = json.loads(DEFAULT_MODEL_PATH.read_text())
    assert data["features"] == FEATURE_NAMES
    model = load_model()
    assert 10 <= model.window <= 200
    assert len(model.idf) > 100
    # a model that loads but scores nothing is useless: a reply must outscore "new conversation"
    r = ConversationReconstructor(model_path=DEFAULT_MODEL_PATH)
    seq = msgs([(ALICE, "is the build broken?"), (BOB, f"<@{ALICE}> yes, fixing the build now")])
    assert r.link(seq) == [0, 0]


@pytest.mark.skipif(not (IRC / "dev").exists(), reason="shared IRC corpus not present")
def test_dev_sample_beats_previous_message_baseline(tmp_path):
    sample = "2009-03-03_10"
    split = tmp_path / "split"
    split.mkdir()
    for suffix in (".ascii.txt", ".annotation.txt"):
        (split / f"{sample}{suffix}").write_bytes((IRC / "dev" / f"{sample}{suffix}").read_bytes())
    export = tmp_path / "export"
    subprocess.run(
        [sys.executable, str(SHARED / "tools" / "irc_to_slack_export.py"), str(split), str(export)],
        check=True,
    )
    gold = tmp_path / "gold.txt"
    gold.write_text(
        "".join(line for line in (IRC / "gold.dev.clusters.txt").open() if line.startswith(sample + ":"))
    )
    channel = json.loads((export / "channels.json").read_text())[0]
    users = {u["id"]: u["name"] for u in json.loads((export / "users.json").read_text())}
    raw = []
    for day in sorted((export / channel["name"]).glob("*.json")):
        raw.extend(json.loads(day.read_text()))
    raw.sort(key=lambda m: float(m["ts"]))
    seq = [TopLevelMessage(m["ts"], m.get("user"), m.get("text", ""), m.get("subtype")) for m in raw]
    roots = ConversationReconstructor(user_names=users).assign(seq)
    pred = tmp_path / "pred.jsonl"
    pred.write_text(
        "".join(
            json.dumps({"channel_id": channel["id"], "ts": m.ts, "thread_id": f"{channel['id']}:{r}"}) + "\n"
            for m, r in zip(seq, roots, strict=True)
        )
    )
    out = subprocess.run(
        [
            sys.executable,
            str(SHARED / "tools" / "score_threads.py"),
            str(export / "_index.jsonl"),
            str(gold),
            str(pred),
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, f"score_threads.py failed:\n{out.stderr}"
    score = json.loads(out.stdout)
    assert score["messages"] == 250
    assert score["VI"] > 85.0 and score["1-1"] > 60.0


def test_no_link_across_a_long_silence():
    from outropy_pipelines.domain.conversation_messages import TopLevelMessage
    from outropy_pipelines.domain.conversation_reconstruction import ConversationReconstructor

    base = 1_793_800_000
    msgs = [
        TopLevelMessage(ts=f"{base}.000100", user_id="U1", text="<@U2> is the deploy done?"),
        TopLevelMessage(ts=f"{base + 60}.000100", user_id="U2", text="<@U1> yes, deploy is done"),
        TopLevelMessage(ts=f"{base + 3 * 3600}.000100", user_id="U1", text="<@U2> the deploy is done?"),
    ]
    rc = ConversationReconstructor(user_names={"U1": "ana", "U2": "bob"})
    assert rc.link(msgs)[1] == 0  # one minute later, addressed: a reply
    assert rc.link(msgs)[2] == 2  # three hours later: a new conversation, whatever the words
    assert ConversationReconstructor(max_gap_seconds=None).link(msgs)[2] != 2
