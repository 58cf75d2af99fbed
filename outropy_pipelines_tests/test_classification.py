"""Classification: prefilter, LLM input, output validation, and item ids that survive across days."""

from __future__ import annotations

import random
import re
import sys

from outropy_pipelines.domain import classification, noise
from outropy_pipelines.domain.classification import (
    build_classify_input,
    classify_threads,
    items_from_output,
    make_item_id,
)
from outropy_pipelines.domain.contracts import ClassifyThreadOutput, ExtractedItem
from outropy_pipelines.domain.models import SourceRef, Thread, ThreadMessage
from outropy_pipelines.domain.noise import CASEFOLD_EXOTIC, has_casefold_exotic, is_contentless, is_noise_text
from outropy_pipelines.llm.base import LLMClient, LLMError, LLMProvider, LLMUsage
from outropy_pipelines.llm.local_provider import LocalProvider
from outropy_pipelines.llm.prompts import CLASSIFY_THREAD

NAMES = {"U1ALICE": "Alice Chen", "U2BOB": "Bob Diaz", "U3CAROL": "Carol Evans", "B9DEPLOY": "deploybot"}
CHANNELS = {"C0ENG": ("engineering", "public"), "C0ATLAS": ("proj-atlas", "public")}
CHANNEL = "C0ENG"
ROOT = "1793800000.000100"
THREAD_ID = f"{CHANNEL}:{ROOT}"


def ts(day: str, n: int) -> str:
    base = {
        "2026-11-02": 1793577600,
        "2026-11-03": 1793664000,
        "2026-11-04": 1793750400,
        "2026-11-05": 1793836800,
    }
    return f"{base[day] + 3600 + 60 * n}.000100"


def msg(
    day: str, n: int, user: str | None, text: str, *, is_new: bool = True, is_bot: bool = False
) -> ThreadMessage:
    return ThreadMessage(
        thread_id=THREAD_ID,
        channel_id=CHANNEL,
        ts=ts(day, n),
        user_id=user,
        user_name=NAMES.get(user or "", "bot"),
        clean_text=text,
        is_new=is_new,
        mentions=re.findall(r"<@(U\w+)>", text),
        is_bot=is_bot,
    )


def make_thread(day: str, messages: list[ThreadMessage]) -> Thread:
    ordered = sorted(messages, key=lambda m: float(m.ts))
    return Thread(
        day=day,
        thread_id=THREAD_ID,
        channel_id=CHANNEL,
        root_ts=ROOT,
        kind="slack_thread",
        participants=sorted({m.user_id for m in messages if m.user_id}),
        first_ts=ordered[0].ts,
        last_ts=ordered[-1].ts,
        messages=messages,
    )


def local_client() -> LLMClient:
    return LLMClient(LocalProvider(), concurrency=1)


# --- prefilter -------------------------------------------------------------------------------


def test_contentless_threads_are_greetings_thanks_emoji_joins_and_bot_noise():
    day = "2026-11-04"
    noise = make_thread(
        day,
        [
            msg(day, 1, "U1ALICE", "good morning everyone :wave:"),
            msg(day, 2, "U2BOB", "thanks <@U1ALICE>!!"),
            msg(day, 3, "U3CAROL", "🎉🎉"),
            msg(day, 4, "U3CAROL", "<@U3CAROL> has joined the channel"),
            msg(day, 5, "B9DEPLOY", "Deployed checkout-api v2026.11.04-1 to staging", is_bot=True),
        ],
    )
    assert is_contentless(noise)
    with_content = make_thread(
        day, [*noise.messages, msg(day, 6, "U1ALICE", "<@U2BOB> can you rotate the key?")]
    )
    assert not is_contentless(with_content)
    alert = make_thread(day, [msg(day, 1, "B9DEPLOY", "[FIRING:1] HighErrorRate checkout-api", is_bot=True)])
    assert not is_contentless(alert)


def test_classify_threads_skips_contentless_threads_without_a_call():
    day = "2026-11-04"
    client = local_client()
    result = classify_threads(
        [make_thread(day, [msg(day, 1, "U1ALICE", "thanks all!")])], client, CHANNELS, NAMES, day
    )
    assert result.skipped == 1 and result.items == [] and client.stats.requests == 0


# --- the LLM input ---------------------------------------------------------------------------


def test_build_classify_input_orders_messages_and_maps_short_ids():
    day = "2026-11-04"
    late = msg(day, 5, "U2BOB", "done")
    early = msg(day, 1, "U1ALICE", "<@U3CAROL> can you update the runbook?", is_new=False)
    bot = msg(day, 3, "B9DEPLOY", "Deployed checkout-api to staging", is_bot=True)
    payload, id_map = build_classify_input(
        make_thread(day, [late, bot, early]), "engineering", "public", NAMES
    )
    assert [m.id for m in payload.messages] == ["m1", "m2"]  # the deploy notice is left out
    assert [m.text for m in payload.messages] == [early.clean_text, late.clean_text]
    assert id_map == {
        "m1": SourceRef(channel_id=CHANNEL, ts=early.ts),
        "m2": SourceRef(channel_id=CHANNEL, ts=late.ts),
    }
    assert payload.messages[0].mentions == ["U3CAROL"] and payload.messages[0].is_new is False
    assert payload.people["U3CAROL"] == "Carol Evans"  # mentioned people are named too
    assert payload.channel_name == "engineering" and payload.day == day


# --- item ids and output validation ----------------------------------------------------------


def test_make_item_id_normalises_titles():
    a = make_item_id(THREAD_ID, "action_item", "Bob to update the runbook!")
    assert a == make_item_id(THREAD_ID, "action_item", "  bob TO update   the runbook ")
    assert re.fullmatch(r"[0-9a-f]{16}", a)
    assert a != make_item_id(THREAD_ID, "question", "Bob to update the runbook")
    assert a != make_item_id("C0ENG:1.1", "action_item", "Bob to update the runbook")


def _item(**kw) -> ExtractedItem:
    base = {"kind": "action_item", "title": "Bob to rotate the key", "confidence": 0.8, "status": "open",
            "source_ids": ["m1"], "owners": ["U2BOB"]}  # fmt: skip
    base.update(kw)
    return ExtractedItem(**base)


def test_items_citing_unknown_message_ids_are_rejected_and_unknown_people_dropped():
    day = "2026-11-04"
    thread = make_thread(
        day, [msg(day, 1, "U1ALICE", "<@U2BOB> can you rotate the key?"), msg(day, 2, "U2BOB", "ok")]
    )
    _, id_map = build_classify_input(thread, "engineering", "public", NAMES)
    output = ClassifyThreadOutput(
        items=[
            _item(),
            _item(kind="decision", title="Everyone is fired", status="info", source_ids=["m1", "m99"]),
            _item(title="Bob to rotate the key again", owners=["U2BOB", "UEVIL"], mentions=["UEVIL"]),
        ]
    )
    items, rejections = items_from_output(
        thread, output, id_map, day=day, provider="test", prompt_version="v", new_ts={thread.messages[0].ts}
    )
    assert [i.title for i in items] == ["Bob to rotate the key", "Bob to rotate the key again"]
    assert len(rejections) == 1 and "m99" in rejections[0]
    assert items[1].owners == ["U2BOB"] and items[1].mentions == []
    assert items[0].sources == [SourceRef(channel_id=CHANNEL, ts=thread.messages[0].ts)]
    assert items[0].is_new and items[0].provider == "test"


def test_items_with_the_same_id_merge_and_status_follows_kind():
    day = "2026-11-04"
    thread = make_thread(day, [msg(day, 1, "U1ALICE", "x", is_new=False), msg(day, 2, "U2BOB", "y")])
    _, id_map = build_classify_input(thread, "engineering", "public", NAMES)
    output = ClassifyThreadOutput(
        items=[
            _item(source_ids=["m1"]),
            _item(title="bob to rotate the KEY.", source_ids=["m2"], status="resolved"),
            _item(kind="decision", title="Use Postgres", status="open", owners=[]),
            _item(kind="blocker", title="Blocked on keys", status="info", owners=[]),
        ]
    )
    items, rejections = items_from_output(
        thread, output, id_map, day=day, provider="test", prompt_version="v", new_ts={thread.messages[1].ts}
    )
    assert rejections == []
    by_kind = {i.kind: i for i in items}
    merged = by_kind["action_item"]
    assert len(merged.sources) == 2 and merged.status == "resolved" and merged.is_new
    assert by_kind["decision"].status == "info" and not by_kind["decision"].is_new
    assert by_kind["blocker"].status == "open"


# --- the stage with the local provider -------------------------------------------------------


def test_classify_threads_finds_each_kind_with_sources():
    day = "2026-11-04"
    thread = make_thread(
        day,
        [
            msg(day, 1, "U1ALICE", "Decision: we'll ship the new billing page behind a flag"),
            msg(day, 2, "U1ALICE", "<@U2BOB> can you update the runbook by Friday?"),
            msg(day, 3, "U2BOB", "<@U3CAROL> what's the ETA on the search index?"),
            msg(day, 4, "U3CAROL", "I'm blocked on the API keys, can't deploy until security approves"),
            msg(day, 5, "U3CAROL", "<!here> heads up: staging is frozen tonight"),
            msg(day, 6, "U2BOB", "shipped the billing page to staging"),
        ],
    )
    result = classify_threads([thread], local_client(), CHANNELS, NAMES, day)
    assert result.failures == [] and result.rejections == []
    kinds = {i.kind: i for i in result.items}
    assert set(kinds) == {"decision", "action_item", "question", "blocker", "announcement", "status_update"}
    assert kinds["action_item"].owners == ["U2BOB"] and kinds["action_item"].due == "2026-11-06"
    assert kinds["question"].owners == ["U3CAROL"]
    assert kinds["action_item"].sources == [SourceRef(channel_id=CHANNEL, ts=ts(day, 2))]
    assert all(i.provider == "local" and i.prompt_version == CLASSIFY_THREAD.version for i in result.items)
    assert result.stats["items"] == 6


def test_item_ids_are_stable_across_days_and_resolution_is_new():
    ask = "<@U2BOB> can you rotate the staging API key by Friday?"
    d2, d4, d5 = "2026-11-02", "2026-11-04", "2026-11-05"
    client = local_client()

    day2 = make_thread(d2, [msg(d2, 1, "U1ALICE", ask)])
    [first] = classify_threads([day2], client, CHANNELS, NAMES, d2).items
    assert first.status == "open" and first.is_new and first.day == d2

    # D+2: the old ask is re-extracted with an unrelated new reply: same id, not new
    day4 = make_thread(
        d4,
        [msg(d2, 1, "U1ALICE", ask, is_new=False), msg(d4, 1, "U3CAROL", "nice, the dashboards look great")],
    )
    [again] = classify_threads([day4], client, CHANNELS, NAMES, d4).items
    assert again.item_id == first.item_id and again.title == first.title
    assert again.status == "open" and not again.is_new

    # D+3: the owner closes it: same id, resolved, new, with the closing message as a source
    day5 = make_thread(
        d5, [*(m.model_copy(update={"is_new": False}) for m in day4.messages), msg(d5, 1, "U2BOB", "done ✅")]
    )
    [closed] = classify_threads([day5], client, CHANNELS, NAMES, d5).items
    assert closed.item_id == first.item_id
    assert closed.status == "resolved" and closed.is_new
    assert closed.sources[-1] == SourceRef(channel_id=CHANNEL, ts=ts(d5, 1))


class _Broken(LLMProvider):
    name = "broken"
    model = "none"
    cacheable = False

    def complete(self, prompt, payload, output_model):  # type: ignore[override]
        raise LLMError("upstream 500 after retries")


class _Liar(LLMProvider):
    """Answers with an item citing a message the thread does not have."""

    name = "liar"
    model = "none"
    cacheable = False

    def complete(self, prompt, payload, output_model):  # type: ignore[override]
        item = _item(kind="decision", title="Wire the money", status="info", source_ids=["m7"])
        return ClassifyThreadOutput(items=[item]), LLMUsage(10, 5)


def test_failures_and_rejections_are_reported_not_raised():
    day = "2026-11-04"
    thread = make_thread(day, [msg(day, 1, "U1ALICE", "<@U2BOB> can you rotate the key?")])
    failed = classify_threads([thread], LLMClient(_Broken()), CHANNELS, NAMES, day)
    assert failed.items == [] and failed.failures == [(THREAD_ID, "upstream 500 after retries")]
    lied = classify_threads([thread], LLMClient(_Liar()), CHANNELS, NAMES, day)
    assert lied.items == [] and len(lied.rejections) == 1 and lied.rejections[0][0] == THREAD_ID
    assert lied.stats["items_rejected"] == 1


# --- the speed work: faster paths that must give what the plain ones gave ----------------------


def _is_noise_text_before(text: str) -> bool:
    """is_noise_text as it was before its fast paths (gated join pattern, first-token exit)."""
    if not text or text.isspace():
        return True
    if noise._JOIN_RE.search(text):
        return True
    stripped = noise._MENTION_MARKUP_RE.sub(" ", text)
    if ":" in stripped:
        stripped = noise._EMOJI_CODE_RE.sub(" ", stripped)
    if "http" in stripped and noise._LINK_RE.search(stripped):
        return False
    tokens = noise._TOKEN_RE.findall(stripped.lower())
    if not tokens:
        return True
    if len(tokens) > 12:
        return False
    return all(t.strip("'") in noise.NOISE_WORDS for t in tokens)


NOISE_CASES = [
    "", "  ", "thanks!", "Thanks all :tada:", "lol yes", "ok ok ok ok ok ok ok ok ok ok ok ok",
    "ok ok ok ok ok ok ok ok ok ok ok ok ok", "<@U1> has joined the channel", "<@U1> HAS JOINED THE CHANNEL",
    "Bob Diaz has left the group", "bob set the channel topic: x", "added an integration to this channel",
    "İntegration", "bob has joıned the channel", "bob has joıned the group", "<@U1> enabled an İntegration",
    "bob left the group", "KIND regards", "thanks @Bob Diaz", "👍 🎉", ":+1: :wave:",
    "see https://example.com", "thanks <https://x.io|here>", "'thanks'", "so we need to ship it",
    "good morning team, the deploy failed", "yes", "nope!!", "ty ty", "hi <!here>", "a b c",
]  # fmt: skip


def test_is_noise_text_gives_what_it_gave_before_its_fast_paths():
    rng = random.Random(7)
    words = ["thanks", "ok", "lol", "the", "deploy", "joined", "left", "channel", "<@U1>", "@Bob", ":tada:",
             "https://x.io", "ı", "İ", "ſ", "K", "has", "'", "👍", "integration", "an", "added", "set"]  # fmt: skip
    cases = [*NOISE_CASES, *(" ".join(rng.choices(words, k=rng.randint(1, 15))) for _ in range(3000))]
    for text in cases:
        assert is_noise_text(text) == _is_noise_text_before(text), text
    assert sum(map(is_noise_text, cases)) > 100 and sum(not is_noise_text(t) for t in cases) > 100


def test_casefold_exotic_is_every_non_ascii_character_ignorecase_matches_to_an_ascii_letter():
    letter = re.compile("[a-z]", re.IGNORECASE)
    found = tuple(chr(cp) for cp in range(128, sys.maxunicode + 1) if letter.fullmatch(chr(cp)))
    assert found == CASEFOLD_EXOTIC
    assert all(has_casefold_exotic(f"é{c}x") for c in CASEFOLD_EXOTIC)
    assert not has_casefold_exotic("é x") and not has_casefold_exotic("plain")


def test_inputs_are_built_when_the_client_asks_and_are_those_of_build_classify_input():
    day = "2026-11-05"
    threads = [
        make_thread("2026-11-04", [msg("2026-11-04", 1, "U1ALICE", "<@U2BOB> can you rotate the key?")]),
        make_thread(day, [msg(day, 2, "U2BOB", "thanks!")]),  # contentless: no input
        make_thread(day, [msg(day, 3, "U3CAROL", "Decision: we ship on Friday"), msg(day, 1, "B9DEPLOY", "x", is_bot=True)]),
    ]  # fmt: skip
    seen = []

    class Recording(LocalProvider):
        def complete(self, prompt, payload, output_model):
            seen.append(payload)
            return super().complete(prompt, payload, output_model)

    result = classify_threads(threads, LLMClient(Recording()), CHANNELS, NAMES, day)
    expected = [
        build_classify_input(t, "engineering", "public", NAMES)[0].model_copy(update={"day": day})
        for t in (threads[0], threads[2])
    ]
    assert seen == expected and all(p.day == day for p in seen)
    assert [i.kind for i in result.items] == ["action_item", "decision"] and result.skipped == 1


def test_long_threads_number_their_messages_past_the_prebuilt_ids():
    day = "2026-11-04"
    thread = make_thread(day, [msg(day, n, "U1ALICE", f"update {n}") for n in range(300)])
    payload, id_map = build_classify_input(thread, "engineering", "public", NAMES)
    assert [m.id for m in payload.messages] == [f"m{i}" for i in range(1, 301)] == list(id_map)
    assert id_map["m300"].ts == ts(day, 299)


def test_near_identical_items_become_one_counted_item_asks_per_asker():
    day = "2026-11-04"

    def one(n: int, user: str | None, text: str, *, is_bot: bool = False) -> Thread:
        m = msg(day, n, user, text, is_bot=is_bot).model_copy(update={"thread_id": f"{CHANNEL}:{ts(day, n)}"})
        t = make_thread(day, [m])
        return t.model_copy(update={"thread_id": m.thread_id, "root_ts": m.ts})

    threads = [
        one(1, "U1ALICE", "I've merged the patch for importer 3"),
        one(2, "U1ALICE", "I've merged the patch for importer 4"),
        one(3, "U1ALICE", "I've merged the patch for importer 12"),
        one(4, "U2BOB", "I've merged the patch for importer 5"),  # news: said by anyone, one line
        one(5, "U1ALICE", "Could someone review the patch for importer 3?"),
        one(6, "U2BOB", "Could someone review the patch for importer 4?"),  # an ask: each asker's own
    ]
    result = classify_threads(threads, local_client(), CHANNELS, NAMES, day)
    [grouped] = [i for i in result.items if i.kind == "status_update"]
    assert grouped.title == "Alice Chen and 1 other: I've merged the patch for importer 3 (4 times)"
    assert grouped.sources == [SourceRef(channel_id=CHANNEL, ts=ts(day, n)) for n in (1, 2, 3, 4)]
    asks = [i for i in result.items if i.kind in ("question", "action_item")]
    assert len(asks) == 2 and not any("times)" in i.title for i in asks), [i.title for i in asks]
    assert result.stats["items"] == len(result.items)


def test_normalise_title_fast_path_gives_what_the_regexes_give():
    punct, spaces = re.compile(r"[^\w\s]+"), re.compile(r"\s+")
    rng = random.Random(7)
    alphabet = "aZ9_ !?.,;:'\"()[]{}<>@#-+*/\\|~`$%^&=\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x7f"
    for _ in range(5000):
        title = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        expected = spaces.sub(" ", punct.sub(" ", title.lower())).strip()
        assert classification._normalise_title(title) == expected, repr(title)
    assert classification._normalise_title("Café — déjà vu!") == "café déjà vu"


def test_a_bot_without_a_directory_entry_is_named_by_its_profile_name_not_its_id():
    day = "2026-11-04"
    post = msg(day, 1, "B7FEED", "I've merged the fix for the nightly export").model_copy(
        update={"user_name": "release notifier"}
    )
    thread = make_thread(day, [post])
    result = classify_threads([thread], local_client(), CHANNELS, {}, day)
    [item] = result.items
    assert "B7FEED" not in item.title and item.title.startswith("Release notifier"), item.title
