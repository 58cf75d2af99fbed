"""Permalinks and the Markdown, Slack Block Kit, HTML and plain-text renderings of a briefing."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter

import pytest

from outropy_pipelines.domain.briefing_rendering import (
    LineRenderer,
    render_html,
    render_into,
    render_markdown,
    render_plain_text,
    render_slack_blocks,
    split_slack_blocks,
    split_slack_messages,
)
from outropy_pipelines.domain.models import BRIEFING_SECTIONS, Briefing, BriefingLine, SourceRef
from outropy_pipelines.domain.permalinks import permalink

WS = "https://acme.slack.com"
DAY = "2026-11-03"


def link(channel_id: str, ts: str, thread_ts: str | None = None) -> str:
    return permalink(WS, channel_id, ts, thread_ts)


def make_line(
    position: int,
    section: str = "needs_you",
    *,
    text: str | None = None,
    n_sources: int = 1,
    reason: str = "assigned to you by Bob in #eng",
    channel_name: str = "#eng",
) -> BriefingLine:
    sources = [
        SourceRef(channel_id="CENG", ts=f"1762128{position:03d}.{k:06d}") for k in range(1, n_sources + 1)
    ]
    return BriefingLine(
        position=position,
        section=section,
        item_id=f"item-{position:04d}",
        kind="action_item",
        text=text if text is not None else f"Line {position} title",
        reason=reason,
        score=1.0,
        channel_id="CENG",
        channel_name=channel_name,
        sources=sources,
        permalinks=[link(s.channel_id, s.ts) for s in sources],
    )


def make_briefing(lines, intro: str = "Your day: things happened.") -> Briefing:
    return Briefing(day=DAY, user_id="UANN", user_name="Ann", intro=intro, lines=list(lines))


def iter_texts(obj):
    """Every `text` string anywhere in a Block Kit payload."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "text" and isinstance(v, str):
                yield v
            else:
                yield from iter_texts(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from iter_texts(v)


# --- permalinks --------------------------------------------------------------------------------------


def test_permalink_top_level_and_root():
    assert permalink("https://x.slack.com", "C123", "1700000000.000100") == (
        "https://x.slack.com/archives/C123/p1700000000000100"
    )
    # Trailing slash and a missing scheme are tolerated; a thread root has no query.
    assert permalink("x.slack.com/", "C123", "1700000000.000100", "1700000000.000100") == (
        "https://x.slack.com/archives/C123/p1700000000000100"
    )


def test_permalink_thread_reply():
    assert permalink("https://x.slack.com", "C123", "1700000000.000200", "1700000000.000100") == (
        "https://x.slack.com/archives/C123/p1700000000000200?thread_ts=1700000000.000100&cid=C123"
    )


def test_permalink_rejects_bad_ts():
    with pytest.raises(ValueError):
        permalink("https://x.slack.com", "C123", "not-a-ts")


# --- markdown ----------------------------------------------------------------------------------------


def test_markdown_structure_and_source_links():
    lines = [
        make_line(0, "needs_you"),
        make_line(
            1,
            "decisions",
            n_sources=2,
            reason="decision in #proj-atlas you follow",
            channel_name="#proj-atlas",
        ),
        make_line(2, "updates", reason="announcement in #eng"),
    ]
    md = render_markdown(make_briefing(lines))
    assert md.startswith(f"# Your briefing for {DAY}\n\nYour day: things happened.\n")
    assert md.index("## Needs you") < md.index("## Decisions") < md.index("## Updates in your channels")
    assert "## Blockers and incidents" not in md  # empty sections are left out
    l0, l1 = lines[0], lines[1]
    # The channel follows the reason unless the reason already names it.
    assert f"- [Line 0 title]({l0.permalinks[0]}) — assigned to you by Bob in #eng\n" in md
    assert (
        f"- [Line 1 title]({l1.permalinks[0]}) — decision in #proj-atlas you follow · "
        f"[1]({l1.permalinks[0]}) [2]({l1.permalinks[1]})\n"
    ) in md
    assert f"- [Line 2 title]({lines[2].permalinks[0]}) — announcement in #eng\n" in md
    other = make_line(3, reason="announcement in #engineering", channel_name="#eng")
    assert "— announcement in #engineering · #eng\n" in render_markdown(make_briefing([other]))


def test_markdown_escapes_titles_and_reasons():
    line = make_line(
        0, text="Fix [prod] *now* <script>x</script> `rm` _a_", reason="ping [here](http://evil)"
    )
    md = render_markdown(make_briefing([line]))
    assert r"[Fix \[prod\] \*now\* \<script\>x\</script\> \`rm\` \_a\_](" in md
    assert r"ping \[here\](http://evil)" in md
    assert "[here](http://evil)" not in md


def test_markdown_empty_briefing():
    md = render_markdown(make_briefing([], intro=""))
    assert md == f"# Your briefing for {DAY}\n\nNothing needed you yesterday.\n"


def test_non_http_links_are_never_rendered():
    line = make_line(0, text="click me")
    line.permalinks = ["javascript:alert(1)"]
    b = make_briefing([line])
    for out in (render_markdown(b), render_html(b), json.dumps(render_slack_blocks(b)), render_plain_text(b)):
        assert "javascript:" not in out
        assert "click me" in out


# --- HTML --------------------------------------------------------------------------------------------


def test_html_escapes_user_text_and_links_sources():
    line = make_line(
        0,
        text='<script>alert("x")</script> & more',
        n_sources=2,
        reason="<img src=x onerror=alert(1)>",
        channel_name="#<b>eng</b>",
    )
    doc = render_html(make_briefing([line], intro="<i>hi</i>"))
    assert doc.startswith("<!DOCTYPE html>") and doc.rstrip().endswith("</html>")
    assert "<script>" not in doc and "<img" not in doc and "<b>eng" not in doc and "<i>hi" not in doc
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in doc
    assert "&lt;img src=x onerror=alert(1)&gt;" in doc
    assert "&lt;i&gt;hi&lt;/i&gt;" in doc
    assert f'href="{line.permalinks[0]}"' in doc and f'href="{line.permalinks[1]}"' in doc
    assert "<h2" in doc and "Needs you" in doc
    assert 'style="' in doc  # inline CSS for mail clients


def test_html_page_is_autoescaped_in_the_stdlib_entity_form():
    # The page template escapes everything it prints (title, intro, section titles), as html.escape
    # does (&quot; and &#x27;, not markupsafe's &#34; and &#39;); the Markdown page is not HTML-escaped.
    line = make_line(0, text="""<script>alert('x')</script> "quoted" """)
    b = Briefing(
        day="""<script>alert("day")</script>'""", user_id="UANN", user_name="Ann", intro="'<i>'", lines=[line]
    )
    doc = render_html(b)
    title = "Your briefing for &lt;script&gt;alert(&quot;day&quot;)&lt;/script&gt;&#x27;"
    assert f"<title>{title}</title>" in doc and f">{title}</h1>" in doc
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &quot;quoted&quot;</a>" in doc
    assert ">&#x27;&lt;i&gt;&#x27;</p>" in doc
    assert "<script" not in doc and "&#34;" not in doc and "&#39;" not in doc
    md = render_markdown(b)
    assert md.startswith('# Your briefing for \\<script\\>alert("day")\\</script\\>\'\n')
    assert "&quot;" not in md and "&lt;" not in md and "&#x27;" not in render_plain_text(b)


def test_html_escapes_ampersand_in_thread_links():
    line = make_line(0)
    line.permalinks = [link("CENG", "1762128000.000200", "1762128000.000100")]
    doc = render_html(make_briefing([line]))
    assert (
        'href="https://acme.slack.com/archives/CENG/p1762128000000200?thread_ts=1762128000.000100&amp;cid=CENG"'
        in doc
    )


def test_html_empty_briefing():
    assert "Nothing needed you yesterday." in render_html(make_briefing([], intro=""))


# --- Slack blocks ------------------------------------------------------------------------------------


def test_slack_blocks_structure_and_mrkdwn_escaping():
    line = make_line(0, text="a < b & c > d", n_sources=2, reason="Bob <@U1> & co")
    blocks = render_slack_blocks(make_briefing([line], intro="Hi & welcome"))
    assert blocks[0] == {
        "type": "header",
        "block_id": "briefing-header",
        "text": {"type": "plain_text", "text": f"Your briefing for {DAY}", "emoji": True},
    }
    assert blocks[1]["text"]["text"] == "Hi &amp; welcome"
    assert [b["type"] for b in blocks[2:]] == ["divider", "section", "section", "context"]
    assert blocks[3]["text"]["text"] == "*Needs you*"
    assert blocks[4]["text"] == {
        "type": "mrkdwn",
        "text": f"*<{line.permalinks[0]}|a &lt; b &amp; c &gt; d>* <{line.permalinks[0]}|[1]> <{line.permalinks[1]}|[2]>",
    }
    assert blocks[5]["elements"][0]["text"] == "Bob &lt;@U1&gt; &amp; co · #eng"


def test_slack_empty_briefing():
    (msg,) = split_slack_messages(make_briefing([], intro=""))
    assert len(msg["blocks"]) == 2
    assert msg["blocks"][1]["text"]["text"] == "Nothing needed you yesterday."
    assert "Nothing needed you yesterday." in msg["text"]


def _long_briefing(n: int = 200) -> Briefing:
    lines = []
    for i in range(n):
        section = BRIEFING_SECTIONS[min(i * len(BRIEFING_SECTIONS) // n, len(BRIEFING_SECTIONS) - 1)]
        title = f"Line {i:03d} <&> " + ("lorem ipsum dolor sit amet " * 20)
        lines.append(make_line(i, section, text=title, n_sources=1 + i % 3))
    return make_briefing(lines)


def test_long_briefing_splits_between_lines_within_limits():
    b = _long_briefing(200)
    messages = split_slack_messages(b)
    assert len(messages) >= 8  # 200 lines x 2 blocks cannot fit in fewer than 8 messages of 50
    for msg in messages:
        assert 0 < len(msg["blocks"]) <= 50
        assert msg["text"] and len(msg["text"]) <= 3000
        for text in iter_texts(msg["blocks"]):
            assert len(text) <= 3000
    seen: Counter[str] = Counter()
    for msg in messages:
        blocks = msg["blocks"]
        ids = [blk.get("block_id") for blk in blocks]
        assert len([i for i in ids if i]) == len({i for i in ids if i})  # block_ids unique per message
        for k, blk in enumerate(blocks):
            block_id = blk.get("block_id", "")
            if block_id.startswith("line-") and not block_id.endswith("-why"):
                seen[block_id] += 1
                # The line's reason travels in the same message, right after it.
                assert blocks[k + 1]["block_id"] == f"{block_id}-why"
    assert seen == Counter({f"line-{ln.position}": 1 for ln in b.lines})
    # Never cut mid-line: every line's block carries its full title and all its links.
    section_text = {
        blk["block_id"]: blk["text"]["text"]
        for msg in messages
        for blk in msg["blocks"]
        if blk.get("block_id", "").startswith("line-") and blk["type"] == "section"
    }
    for ln in b.lines:
        text = section_text[f"line-{ln.position}"]
        assert ln.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").strip() in text
        assert "…" not in text
        for url in ln.permalinks:
            assert f"<{url}|" in text
    # Continuation messages say so and open with a section heading (repeated mid-section);
    # no message ends on a section heading or divider.
    assert messages[0]["blocks"][0]["type"] == "header"
    for n, msg in enumerate(messages[1:], 2):
        first, second = msg["blocks"][0], msg["blocks"][1]
        assert first["type"] == "context"
        assert f"continued ({n}/{len(messages)})" in first["elements"][0]["text"]
        assert second["block_id"].endswith("-continued") or second["type"] == "divider"
    for msg in messages:
        assert msg["blocks"][-1]["block_id"].endswith("-why")
    continued = [m["blocks"][1]["text"]["text"] for m in messages[1:] if m["blocks"][1]["type"] == "section"]
    assert continued and all(t.endswith("(continued)*") for t in continued)


def test_split_from_stored_blocks_json_matches_split_from_briefing():
    b = render_into(_long_briefing(120))
    from_json = split_slack_blocks(json.loads(b.blocks_json))
    assert from_json == split_slack_messages(b)
    assert len(from_json) > 1


def test_split_respects_smaller_limits():
    b = _long_briefing(60)
    messages = split_slack_messages(b, max_blocks=10, max_text=400)
    for msg in messages:
        assert len(msg["blocks"]) <= 10
        assert len(msg["text"]) <= 400
        assert all(len(t) <= 400 for t in iter_texts(msg["blocks"]))
    ids = [blk["block_id"] for msg in messages for blk in msg["blocks"] if "block_id" in blk]
    line_ids = [i for i in ids if i.startswith("line-") and not i.endswith("-why")]
    assert sorted(line_ids) == sorted(f"line-{i}" for i in range(60))


def test_single_overlong_line_is_truncated_keeping_links():
    line = make_line(0, text="x&" * 5000, n_sources=3, reason="r" * 5000)
    (msg,) = split_slack_messages(make_briefing([line]))
    section = next(blk for blk in msg["blocks"] if blk.get("block_id") == "line-0")
    text = section["text"]["text"]
    assert len(text) <= 3000
    assert "…" in text
    assert not text.split("…")[0].endswith(("&", "&a", "&am", "&amp"))  # no escape cut in half
    for url in line.permalinks:
        assert f"<{url}|" in text
    context = next(blk for blk in msg["blocks"] if blk.get("block_id") == "line-0-why")
    assert len(context["elements"][0]["text"]) <= 3000 and context["elements"][0]["text"].endswith("…")


def test_line_with_too_many_sources_keeps_the_first_link():
    line = make_line(0, n_sources=200)
    (msg,) = split_slack_messages(make_briefing([line]))
    text = next(blk for blk in msg["blocks"] if blk.get("block_id") == "line-0")["text"]["text"]
    assert len(text) <= 3000
    assert text.startswith(f"*<{line.permalinks[0]}|Line 0 title>*")


def test_split_rejects_impossible_limits():
    with pytest.raises(ValueError):
        split_slack_messages(_long_briefing(3), max_blocks=2)


# --- plain text and render_into ----------------------------------------------------------------------


def test_plain_text_lists_every_link():
    line = make_line(0, n_sources=2)
    text = render_plain_text(make_briefing([line]))
    assert text.startswith(f"Your briefing for {DAY}\n")
    assert "- Line 0 title — assigned to you by Bob in #eng\n" in text
    for url in line.permalinks:
        assert f"  {url}\n" in text


def test_render_into_fills_every_rendering():
    b = render_into(make_briefing([make_line(0)]))
    assert b.markdown == render_markdown(b)
    assert b.html == render_html(b)
    assert json.loads(b.blocks_json) == render_slack_blocks(b)


# --- line fragments ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "label", "why"),
    [
        ("incident in #eng", "#eng", "incident in #eng"),
        ("incident in #eng.", "#eng", "incident in #eng."),
        ("incident in (#eng)", "#eng", "incident in (#eng)"),
        ("incident in #eng-ops", "#eng", "incident in #eng-ops · #eng"),
        ("incident in #eng_x", "#eng", "incident in #eng_x · #eng"),
        ("incident in #engé", "#eng", "incident in #engé · #eng"),
        ("incident in #eng2", "#eng", "incident in #eng2 · #eng"),
        ("in #eng-ops, then #eng", "#eng", "in #eng-ops, then #eng"),  # a later occurrence counts
        ("asked in your DM with Bob", "  DM   with\nBob ", "asked in your DM with Bob"),
        ("in #c++!", "#c++", "in #c++!"),  # the label is text, not a pattern
        ("in #c+++", "#c++", "in #c+++"),
        ("in #cxx", "#c.x", "in #cxx · #c.x"),
        ("", "#eng", "#eng"),
        ("  incident  ", "  ", "incident"),
    ],
)
def test_the_channel_label_follows_the_reason_unless_the_reason_names_it(reason, label, why):
    line = make_line(0, text="T", reason=reason, channel_name=label)
    line.permalinks = []
    b = make_briefing([line])
    assert f"\n- T — {why}\n" in render_plain_text(b)
    assert f'<span style="color:#616061;font-size:13px;">{why}</span>' in render_html(b)
    assert render_slack_blocks(b)[-1]["elements"][0]["text"] == why


def test_whitespace_is_what_regex_whitespace_is():
    """Every run of characters `\\s` matches (Unicode whitespace) becomes one space; nothing else does."""
    spaces = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if re.fullmatch(r"\s", c))
    assert {" ", "\t", "\n", "\x0b", "\x1c", "\x85", "\u00a0", "\u2028", "\u3000"} <= set(spaces)
    title = f"{spaces}a{spaces}b\u200bc{spaces[::-1]}d{spaces}"  # U+200B is not whitespace
    line = make_line(0, text=title, reason=f"r{spaces}s", channel_name=f"#x{spaces}")
    b = render_into(make_briefing([line]))
    assert "- a b\u200bc d — r s · #x\n" in render_plain_text(b)
    assert "[a b\u200bc d](" in b.markdown and "— r s · #x\n" in b.markdown
    assert ">a b\u200bc d</a>" in b.html


def test_link_characters_that_break_links_are_percent_encoded():
    line = make_line(0, n_sources=0)
    line.permalinks = [
        ' HTTPS://acme.slack.com/a b(1)<2>|"3"\t4\n5\r6 ',
        "https://acme.slack.com/plain?x=1&y=2",
        "mailto:a@b.c",
    ]
    b = render_into(make_briefing([line]))
    first = "HTTPS://acme.slack.com/a%20b%281%29%3C2%3E%7C%223%22%094%0A5%0D6"
    second = "https://acme.slack.com/plain?x=1&y=2"
    assert (
        f"[Line 0 title]({first}) — assigned to you by Bob in #eng · [1]({first}) [2]({second})" in b.markdown
    )
    assert f'href="{first}"' in b.html and 'href="https://acme.slack.com/plain?x=1&amp;y=2"' in b.html
    assert f"*<{first}|Line 0 title>* <{first}|[1]> <{second}|[2]>" in b.blocks_json
    assert f"\n  {first}\n  {second}\n" in render_plain_text(b)
    assert "mailto" not in b.markdown + b.html + b.blocks_json


def test_render_into_renders_each_line_once_for_all_pages():
    class Counting(LineRenderer):
        def __init__(self) -> None:
            super().__init__()
            self.calls = 0

        def __call__(self, line):
            self.calls += 1
            return super().__call__(line)

    b = make_briefing([make_line(i, BRIEFING_SECTIONS[i % 4], n_sources=i % 3) for i in range(9)])
    renderer = Counting()
    assert render_into(b, renderer=renderer).model_dump() == render_into(b).model_dump()
    assert renderer.calls == len(b.lines)
