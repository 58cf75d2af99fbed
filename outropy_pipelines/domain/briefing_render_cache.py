"""Rendering many briefings of one day: `briefing_rendering`'s output, per-line fragments built once.

The same item is a line in many readers' briefings, with the same title and links and often the
same reason and channel label. Rendering lines (escaping, the label-in-reason check, URL
sanitising, Slack length fitting) is most of a briefing's rendering cost, so `RenderCache` renders
each distinct half-line once and reuses it; only the document skeleton is assembled per briefing.

The skeletons below mirror `render_markdown`, `render_html`, `render_slack_blocks` and
`render_plain_text`, and the line assembly mirrors `_md_line` and `_html_line`;
`outropy_pipelines_tests/test_briefing_index.py` pins the output to theirs byte for byte, so a
change in `briefing_rendering` shows up as a failing test until it is mirrored here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from outropy_pipelines.domain.briefing_rendering import (
    _STYLE,
    EMPTY_MESSAGE,
    SLACK_MAX_TEXT,
    _divider,
    _fit,
    _h,
    _header_block,
    _links,
    _one_line,
    _section_heading,
    _sections,
    _slack_esc,
    _slack_link_line,
    _text_section,
    _why_parts,
    md_escape,
    title_of,
)
from outropy_pipelines.domain.models import SECTION_TITLES, Briefing, BriefingLine


@dataclass(frozen=True, slots=True)
class _ItemParts:
    """What a line renders from its title and permalinks (the same for every reader of the item)."""

    md_head: str  # `[title](link)`
    md_links: str  # ` · [1](u1) [2](u2)` when several links
    html_head: str  # `<li ...><a ...>title</a> [1] [2]<br><span ...>`
    slack_title: str  # text of the `line-<position>` block
    plain_head: str  # `- title — `
    plain_links: tuple[str, ...]  # `  url` lines


@dataclass(frozen=True, slots=True)
class _WhyParts:
    """What a line renders from its reason and channel label."""

    md: str
    html: str
    slack: str  # text of the `line-<position>-why` block
    plain: str


@dataclass(frozen=True, slots=True)
class _Fragments:
    markdown: str
    html: str
    slack_title: str
    slack_why: str
    plain: tuple[str, ...]


class RenderCache:
    """Renders briefings exactly like `briefing_rendering`, memoizing per-line fragments.

    A line renders from two independent halves: its title and permalinks (per item, shared by all
    its readers) and its reason and channel label (often shared too: "incident in #ops"). Each half
    is rendered once per distinct value, and each distinct line assembled once; a line's position,
    section and score only matter to the document skeleton. One cache per day's batch of briefings.

    `_md_line` and `_html_line` are mirrored here split into those halves (same format strings);
    everything else comes from `briefing_rendering` itself.
    """

    def __init__(self, max_text: int = SLACK_MAX_TEXT) -> None:
        self.max_text = max_text
        self._items: dict[tuple, _ItemParts] = {}
        self._whys: dict[tuple[str, str], _WhyParts] = {}
        self._lines: dict[tuple, _Fragments] = {}

    def __len__(self) -> int:
        return len(self._lines)

    def _item_parts(self, line: BriefingLine) -> _ItemParts:
        key = (line.text, tuple(line.permalinks))
        parts = self._items.get(key)
        if parts is None:
            links = _links(line)
            md_title, html_title = md_escape(line.text), _h(line.text)
            md_links = html_links = ""
            if len(links) > 1:
                md_links = " · " + " ".join(f"[{i}]({u})" for i, u in enumerate(links, 1))
                html_links = " " + " ".join(
                    f'<a href="{_h(u)}" style="{_STYLE["src"]}">[{i}]</a>' for i, u in enumerate(links, 1)
                )
            if links:
                md_head = f"[{md_title}]({links[0]})"
                html_head = f'<a href="{_h(links[0])}" style="{_STYLE["a"]}">{html_title}</a>'
            else:
                md_head, html_head = md_title, html_title
            parts = _ItemParts(
                md_head=md_head,
                md_links=md_links,
                html_head=f'<li style="{_STYLE["li"]}">{html_head}{html_links}<br><span style="{_STYLE["why"]}">',
                slack_title=_slack_link_line(line, self.max_text),
                plain_head=f"- {_one_line(line.text)} — ",
                plain_links=tuple(f"  {u}" for u in links),
            )
            self._items[key] = parts
        return parts

    def _why(self, line: BriefingLine) -> _WhyParts:
        key = (line.reason, line.channel_name)
        parts = self._whys.get(key)
        if parts is None:
            why = _why_parts(line)
            joined = " · ".join(why)
            parts = _WhyParts(
                md=" · ".join(md_escape(p) for p in why),
                html=" · ".join(_h(p) for p in why),
                slack=_fit(joined, self.max_text, _slack_esc),
                plain=joined,
            )
            self._whys[key] = parts
        return parts

    def _fragments(self, line: BriefingLine) -> _Fragments:
        key = (line.text, line.reason, line.channel_name, tuple(line.permalinks))
        frag = self._lines.get(key)
        if frag is None:
            item, why = self._item_parts(line), self._why(line)
            frag = _Fragments(
                markdown=f"- {item.md_head} — {why.md}{item.md_links}",  # _md_line
                html=f"{item.html_head}{why.html}</span></li>",  # _html_line
                slack_title=item.slack_title,
                slack_why=why.slack,
                plain=(item.plain_head + why.plain, *item.plain_links),
            )
            self._lines[key] = frag
        return frag

    def markdown(self, b: Briefing, sections=None) -> str:
        """`render_markdown(b)`."""
        sections = _sections(b) if sections is None else sections
        out = [f"# {md_escape(title_of(b))}", ""]
        if _one_line(b.intro):
            out += [md_escape(b.intro), ""]
        if not sections:
            out += [EMPTY_MESSAGE, ""]
        for section, lines in sections:
            out += [f"## {SECTION_TITLES[section]}", ""]
            out += [self._fragments(ln).markdown for ln in lines]
            out.append("")
        return "\n".join(out).rstrip("\n") + "\n"

    def plain_text(self, b: Briefing, sections=None) -> str:
        """`render_plain_text(b)`."""
        sections = _sections(b) if sections is None else sections
        out = [title_of(b), ""]
        if _one_line(b.intro):
            out += [_one_line(b.intro), ""]
        if not sections:
            out += [EMPTY_MESSAGE, ""]
        for section, lines in sections:
            out += [SECTION_TITLES[section], ""]
            for ln in lines:
                out += self._fragments(ln).plain
            out.append("")
        return "\n".join(out).rstrip("\n") + "\n"

    def slack_blocks(self, b: Briefing, sections=None) -> list[dict]:
        """`render_slack_blocks(b, self.max_text)`."""
        sections = _sections(b) if sections is None else sections
        blocks = [_header_block(title_of(b))]
        if _one_line(b.intro):
            blocks.append(_text_section("briefing-intro", b.intro, self.max_text))
        if not sections:
            blocks.append(_text_section("briefing-empty", EMPTY_MESSAGE, self.max_text))
        for section, lines in sections:
            blocks += [_divider(section), _section_heading(section)]
            for ln in lines:
                frag = self._fragments(ln)
                blocks += [
                    {
                        "type": "section",
                        "block_id": f"line-{ln.position}",
                        "text": {"type": "mrkdwn", "text": frag.slack_title},
                    },
                    {
                        "type": "context",
                        "block_id": f"line-{ln.position}-why",
                        "elements": [{"type": "mrkdwn", "text": frag.slack_why}],
                    },
                ]
        return blocks

    def html(self, b: Briefing, sections=None) -> str:
        """`render_html(b)`."""
        sections = _sections(b) if sections is None else sections
        title = _h(title_of(b))
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en">',
            '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title}</title></head>",
            f'<body style="{_STYLE["body"]}">',
            f'<div style="{_STYLE["wrap"]}">',
            f'<h1 style="{_STYLE["h1"]}">{title}</h1>',
        ]
        if _one_line(b.intro):
            parts.append(f'<p style="{_STYLE["intro"]}">{_h(b.intro)}</p>')
        if not sections:
            parts.append(f'<p style="{_STYLE["empty"]}">{_h(EMPTY_MESSAGE)}</p>')
        for section, lines in sections:
            parts.append(f'<h2 style="{_STYLE["h2"]}">{_h(SECTION_TITLES[section])}</h2>')
            parts.append(f'<ul style="{_STYLE["ul"]}">')
            parts += [self._fragments(ln).html for ln in lines]
            parts.append("</ul>")
        parts += ["</div>", "</body>", "</html>"]
        return "\n".join(parts) + "\n"

    def render_into(self, b: Briefing) -> Briefing:
        """`briefing_rendering.render_into(b)` (requires the default `max_text`)."""
        if self.max_text != SLACK_MAX_TEXT:
            raise ValueError("render_into renders Slack blocks with SLACK_MAX_TEXT")
        sections = _sections(b)
        return b.model_copy(
            update={
                "markdown": self.markdown(b, sections),
                "blocks_json": json.dumps(self.slack_blocks(b, sections), ensure_ascii=False),
                "html": self.html(b, sections),
            }
        )
