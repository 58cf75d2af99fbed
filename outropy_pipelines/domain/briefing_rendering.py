"""One `Briefing`, rendered four ways: Markdown, Slack Block Kit, HTML email and plain text.

Renderers only read the briefing's own lines (already access-checked), escape every piece of
user-supplied text for their format, and link only http(s) URLs.

A page is its skeleton (title, intro, section headings) around one fragment per line. The Markdown,
plain-text and HTML skeletons are Jinja2 templates (`templates/briefing.{md,txt,html}.j2`); the Slack
Block Kit one is typed Python (`_slack_page`). A line's fragments (`LineFragments`) are small Python
formatters, each format written once: a day renders thousands of distinct lines, and a template macro
per line costs several times a formatter (see `LineFragments`). They depend only on the line's title,
reason, channel label and permalinks (and the Slack text budget), never on its position or section,
and come from a fragment provider: a `LineRenderer` renders them afresh for each briefing, its
subclass `briefing_render_cache.RenderCache` renders each distinct line once for a whole day of
briefings. Either way the pages come from the same skeletons and line formats.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from outropy_pipelines.domain.briefing_notes import ELLIPSIS, more_block, more_text
from outropy_pipelines.domain.briefing_notes import clip_mrkdwn as _clip_mrkdwn
from outropy_pipelines.domain.briefing_notes import clip_texts as _clip_texts
from outropy_pipelines.domain.models import PAGE_SECTIONS, SECTION_TITLES, Briefing, BriefingLine

EMPTY_MESSAGE = "Nothing needed you yesterday."
SLACK_MAX_BLOCKS = 50
SLACK_MAX_TEXT = 3000
SLACK_MAX_HEADER = 150

_URL_UNSAFE = {
    " ": "%20",
    "(": "%28",
    ")": "%29",
    "<": "%3C",
    ">": "%3E",
    "|": "%7C",
    '"': "%22",
    "\n": "%0A",
    "\r": "%0D",
    "\t": "%09",
}
_URL_UNSAFE_CHAR = re.compile("[" + re.escape("".join(_URL_UNSAFE)) + "]")
_URL_ENCODE = str.maketrans(_URL_UNSAFE)


def title_of(b: Briefing) -> str:
    return f"Your briefing for {b.day}"


def _one_line(text: str) -> str:
    """Whitespace runs collapsed to one space, ends stripped (`str.split` and `\\s` agree on whitespace)."""
    return " ".join(text.split()) if text else ""


def _safe_url(url: str) -> str | None:
    """The URL if it is http(s), with characters that would break Markdown/Slack links encoded."""
    url = (url or "").strip()
    if not url.lower().startswith(("https://", "http://")):
        return None
    return url.translate(_URL_ENCODE) if _URL_UNSAFE_CHAR.search(url) else url


def _links(permalinks: Sequence[str]) -> tuple[str, ...]:
    return tuple(u for u in map(_safe_url, permalinks) if u)


def _names(text: str, label: str) -> bool:
    """Whether `label` occurs in `text` not followed by a word character or "-" ("#eng" in "in #eng")."""
    end = len(label)
    start = text.find(label)
    while start != -1:
        nxt = text[start + end : start + end + 1]
        if not nxt or not (nxt.isalnum() or nxt in "_-"):
            return True
        start = text.find(label, start + 1)
    return False


def _why_parts(reason: str, label: str) -> tuple[str, ...]:
    """The reason, then the channel label unless the reason already names it ("... in #eng")."""
    reason, label = _one_line(reason), _one_line(label)
    parts = (reason,) if reason else ()
    if label and not _names(reason, label):
        parts += (label,)
    return parts


def _fit(text: str, budget: int, escape: Callable[[str], str]) -> str:
    """`escape(text)`, or the longest escaped prefix of `text` plus an ellipsis within `budget` chars.

    Whitespace is collapsed first; cuts fall between source characters, so an escape sequence
    (`&amp;`) is never split.
    """
    text = _one_line(text)
    full = escape(text)
    if len(full) <= budget:
        return full
    if budget < len(ELLIPSIS):
        return ""
    out: list[str] = []
    used = 0
    for ch in text:
        piece = escape(ch)
        if used + len(piece) + len(ELLIPSIS) > budget:
            break
        out.append(piece)
        used += len(piece)
    return "".join(out).rstrip() + ELLIPSIS


# Escaping. The `_*_esc` forms take text already on one line.

_MD_SPECIAL = re.compile(r"[\\`*_\[\]<>~]")


def _backslashed(m: re.Match) -> str:
    return "\\" + m[0]


def _md_esc(text: str) -> str:
    return _MD_SPECIAL.sub(_backslashed, text)


def md_escape(text: str) -> str:
    return _md_esc(_one_line(text))


def _slack_esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_escape(text: str) -> str:
    """Slack's mrkdwn escaping: only &, < and > are control characters."""
    return _slack_esc(_one_line(text))


def _h(text: str) -> str:
    return html.escape(_one_line(text), quote=True)


# ---------------------------------------------------------------------------------------------------
# Lines

# The HTML line's styles (the page's are in `templates/briefing.html.j2`).
_STYLE = {
    "li": "margin:0 0 10px 0;",
    "a": "color:#1264a3;text-decoration:none;",
    "src": "color:#1264a3;text-decoration:none;font-size:13px;",
    "why": "color:#616061;font-size:13px;",
}


class _rendered_once:
    """`functools.cached_property` without its per-computation lock (Python 3.11): the first access
    computes the value and stores it as an instance attribute, which later accesses read directly."""

    def __init__(self, render: Callable) -> None:
        self.render, self.name, self.__doc__ = render, render.__name__, render.__doc__

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.render(obj)
        return value


class LineFragments:
    """A line's fragment in each format, a pure function of the fields that determine it.

    Built from the line's title, reason, channel label and permalinks (and the Slack text budget);
    its position and section only matter to the page. The safe links and the "why" parts are
    computed once; each format is rendered on first use and kept, so one `LineFragments` serves
    every page (and, through `RenderCache`, every briefing) the line appears in.

    The formats are Python, not template macros: as Jinja2 macros the same Markdown + HTML + plain-text
    formats took 28-43 µs a line against 11 µs here, and a day of 1,000 briefings renders ~11,000
    distinct lines; rendering that day took 1.8x the string-built pages' time with macros, 1.2x with
    these formatters (scripts/bench_briefings.py's day). The page templates receive the fragments
    finished (the HTML one escaped already, printed `|safe`).
    """

    def __init__(
        self, text: str, reason: str, label: str, permalinks: Sequence[str], max_text: int = SLACK_MAX_TEXT
    ) -> None:
        self.title = _one_line(text)
        self.links = _links(permalinks)
        self.why = _why_parts(reason, label)
        self.max_text = max_text

    @_rendered_once
    def markdown(self) -> str:
        """`- [title](link) — reason · #label · [1](link) [2](link2)`."""
        links = self.links
        title = _md_esc(self.title)
        head = f"[{title}]({links[0]})" if links else title
        tail = " — " + " · ".join(map(_md_esc, self.why))
        if len(links) > 1:
            tail += " · " + " ".join(f"[{i}]({u})" for i, u in enumerate(links, 1))
        return f"- {head}{tail}"

    @_rendered_once
    def html(self) -> str:
        """`<li>` with the linked title, numbered source links, then the reason and label."""
        hrefs = [_h(u) for u in self.links]
        title = html.escape(self.title, quote=True)
        head = f'<a href="{hrefs[0]}" style="{_STYLE["a"]}">{title}</a>' if hrefs else title
        extra = ""
        if len(hrefs) > 1:
            extra = " " + " ".join(
                f'<a href="{u}" style="{_STYLE["src"]}">[{i}]</a>' for i, u in enumerate(hrefs, 1)
            )
        why = " · ".join(html.escape(p, quote=True) for p in self.why)
        return f'<li style="{_STYLE["li"]}">{head}{extra}<br><span style="{_STYLE["why"]}">{why}</span></li>'

    @_rendered_once
    def slack_title(self) -> str:
        """`*<url|title>*  <url2|[2]> ...`, shortened to `max_text` by trimming the title, then extra links."""
        links, max_text = self.links, self.max_text
        title = self.title or "(untitled)"
        if not links:
            return _fit(title, max_text, _slack_esc)
        extras = [f"<{u}|[{i}]>" for i, u in enumerate(links, 1)] if len(links) > 1 else []
        while True:
            extra = (" " + " ".join(extras)) if extras else ""
            frame = len(links[0]) + 5 + len(extra)  # len(f"*<{links[0]}|>*{extra}")
            if frame + 1 + len(ELLIPSIS) <= max_text or not extras:
                break
            extras = extras[:-1]
        if frame + 1 + len(ELLIPSIS) > max_text:  # even the first link does not fit: plain title
            return _fit(title, max_text, _slack_esc)
        return f"*<{links[0]}|{_fit(title, max_text - frame, _slack_esc)}>*{extra}"

    @_rendered_once
    def slack_why(self) -> str:
        """The reason and label, mrkdwn-escaped and fitted to `max_text`."""
        return _fit(" · ".join(self.why), self.max_text, _slack_esc)

    @_rendered_once
    def plain(self) -> str:
        """`- title — reason · #label`, then one `  url` line per link."""
        head = f"- {self.title} — " + " · ".join(self.why)
        return "\n".join([head, *(f"  {u}" for u in self.links)]) if self.links else head


class LineRenderer:
    """Fragment provider: `renderer(line)` is the line's `LineFragments`, rendered afresh.

    `briefing_render_cache.RenderCache` is the memoizing one (same fragments, each distinct line
    rendered once). `max_text` is the Slack text budget of the fragments.
    """

    def __init__(self, max_text: int = SLACK_MAX_TEXT) -> None:
        self.max_text = max_text

    def __call__(self, line: BriefingLine) -> LineFragments:
        return LineFragments(line.text, line.reason, line.channel_name, line.permalinks, self.max_text)


# ---------------------------------------------------------------------------------------------------
# Pages


def _html_escaped(value) -> Markup:
    """The HTML environment's autoescaping, in `html.escape(quote=True)`'s form (`&quot;`, `&#x27;`),
    the form the pages have always had (markupsafe's own is `&#34;`, `&#39;`). Markup passes as is."""
    return value if hasattr(value, "__html__") else Markup(html.escape(str(value), quote=True))


def _environment(**options) -> Environment:
    """A template environment on `domain/templates`, one per format family, built at import. Jinja's
    default globals (`range`, ...) are dropped: unused, and every render copies the globals."""
    env = Environment(
        loader=PackageLoader("outropy_pipelines.domain", "templates"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
        **options,
    )
    env.globals.clear()
    env.globals.update(SECTION_TITLES=SECTION_TITLES, EMPTY_MESSAGE=EMPTY_MESSAGE)
    env.filters.update(one_line=_one_line, md_escape=md_escape, more_text=more_text)
    return env


# Markdown and plain text: no autoescaping, user text is escaped explicitly (`md_escape`).
_TEXT = _environment(autoescape=False)
# HTML: everything printed is escaped unless it is Markup (a line's fragment, marked `|safe`).
_HTML = _environment(autoescape=True, finalize=_html_escaped)

_MARKDOWN_PAGE = _TEXT.get_template("briefing.md.j2")
_PLAIN_TEXT_PAGE = _TEXT.get_template("briefing.txt.j2")
_HTML_PAGE = _HTML.get_template("briefing.html.j2")

# The briefing's non-empty sections in order, each with its lines as (position, fragments).
Page = list[tuple[str, list[tuple[int, LineFragments]]]]


def _sections(b: Briefing) -> list[tuple[str, list[BriefingLine]]]:
    by_section: dict[str, list[BriefingLine]] = {s: [] for s in PAGE_SECTIONS}
    for ln in sorted(b.lines, key=lambda ln: ln.position):
        lines = by_section.get(ln.section)
        if lines is not None:
            lines.append(ln)
    return [(section, lines) for section, lines in by_section.items() if lines]


def _page(b: Briefing, renderer: LineRenderer | None, max_text: int | None = None) -> Page:
    """`b`'s sections with each line's fragments from `renderer` (a fresh `LineRenderer` if None).

    `max_text`, where the page renders Slack text, is the budget the fragments must be rendered for.
    """
    if renderer is None:
        renderer = LineRenderer(SLACK_MAX_TEXT if max_text is None else max_text)
    elif max_text is not None and renderer.max_text != max_text:
        raise ValueError(f"the renderer fits Slack text to {renderer.max_text} chars, not {max_text}")
    return [(section, [(ln.position, renderer(ln)) for ln in lines]) for section, lines in _sections(b)]


# ---------------------------------------------------------------------------------------------------
# Markdown


def _markdown_page(b: Briefing, page: Page) -> str:
    return _MARKDOWN_PAGE.render(
        title=title_of(b), intro=b.intro, sections=page, partial=b.partial, more=b.more
    )


def render_markdown(b: Briefing, *, renderer: LineRenderer | None = None) -> str:
    return _markdown_page(b, _page(b, renderer))


# ---------------------------------------------------------------------------------------------------
# Plain text


def _plain_text_page(b: Briefing, page: Page) -> str:
    return _PLAIN_TEXT_PAGE.render(
        title=title_of(b), intro=b.intro, sections=page, partial=b.partial, more=b.more
    )


def render_plain_text(b: Briefing, *, renderer: LineRenderer | None = None) -> str:
    return _plain_text_page(b, _page(b, renderer))


# ---------------------------------------------------------------------------------------------------
# Slack Block Kit


def _line_blocks(position: int, frag: LineFragments) -> list[dict]:
    return [
        {
            "type": "section",
            "block_id": f"line-{position}",
            "text": {"type": "mrkdwn", "text": frag.slack_title},
        },
        {
            "type": "context",
            "block_id": f"line-{position}-why",
            "elements": [{"type": "mrkdwn", "text": frag.slack_why}],
        },
    ]


def _header_block(title: str) -> dict:
    return {
        "type": "header",
        "block_id": "briefing-header",
        "text": {"type": "plain_text", "text": _fit(title, SLACK_MAX_HEADER, str), "emoji": True},
    }


def _text_section(block_id: str, text: str, max_text: int) -> dict:
    return {
        "type": "section",
        "block_id": block_id,
        "text": {"type": "mrkdwn", "text": _fit(text, max_text, _slack_esc)},
    }


def _section_heading(section: str, continued: bool = False) -> dict:
    title = SECTION_TITLES.get(section, section) + (" (continued)" if continued else "")
    return {
        "type": "section",
        "block_id": f"section-{section}" + ("-continued" if continued else ""),
        "text": {"type": "mrkdwn", "text": f"*{slack_escape(title)}*"},
    }


def _divider(section: str) -> dict:
    return {"type": "divider", "block_id": f"section-{section}-divider"}


def _slack_page(b: Briefing, page: Page, max_text: int) -> list[dict]:
    blocks = [_header_block(title_of(b))]
    if _one_line(b.partial):
        blocks.append(_text_section("briefing-partial", b.partial, max_text))
    if _one_line(b.intro):
        blocks.append(_text_section("briefing-intro", b.intro, max_text))
    if not page:
        blocks.append(_text_section("briefing-empty", EMPTY_MESSAGE, max_text))
    for section, lines in page:
        blocks += [_divider(section), _section_heading(section)]
        for position, frag in lines:
            blocks += _line_blocks(position, frag)
        if b.more.get(section):
            blocks.append(more_block(section, b.more[section]))
    return blocks


def render_slack_blocks(
    b: Briefing, max_text: int = SLACK_MAX_TEXT, *, renderer: LineRenderer | None = None
) -> list[dict]:
    """All blocks of the briefing in one list (may exceed 50 blocks: send via `split_slack_messages`).

    Block ids mark the structure `split_slack_blocks` relies on: `briefing-header`,
    `briefing-intro`, `briefing-empty`, `section-<name>-divider` + `section-<name>`, and per line
    `line-<position>` (title and source links) + `line-<position>-why` (reason and channel).
    A `renderer` must render for the same `max_text`.
    """
    return _slack_page(b, _page(b, renderer, max_text), max_text)


_LINE_ID = re.compile(r"^line-\d+$")
_LINK_TITLE = re.compile(r"^\*<[^|>]*\|(.*?)>\*")


@dataclass
class _Unit:
    kind: str  # "section" (divider + heading), "line" (section + context) or "other"
    blocks: list[dict]
    section: str = ""
    title: str = ""


def _units(blocks: Sequence[dict]) -> list[_Unit]:
    units: list[_Unit] = []
    i = 0
    while i < len(blocks):
        block_id = str(blocks[i].get("block_id", ""))
        nxt = blocks[i + 1] if i + 1 < len(blocks) else {}
        next_id = str(nxt.get("block_id", ""))
        if block_id.startswith("section-") and block_id.endswith("-divider") and next_id == block_id[:-8]:
            units.append(_Unit("section", [blocks[i], nxt], section=next_id[len("section-") :]))
            i += 2
        elif _LINE_ID.match(block_id) and next_id == f"{block_id}-why":
            text = str(blocks[i].get("text", {}).get("text", ""))
            m = _LINK_TITLE.match(text)
            units.append(_Unit("line", [blocks[i], nxt], title=m.group(1) if m else text))
            i += 2
        else:
            units.append(_Unit("other", [blocks[i]]))
            i += 1
    return units


def _fallback_text(head: str, titles: Sequence[str], summary: str, max_text: int) -> str:
    """Notification/accessibility text (mrkdwn): the heading, then the titles of the message's lines."""
    if not titles:
        return _clip_mrkdwn(f"{head}: {summary}" if summary else head, max_text)
    text = _clip_mrkdwn(head, max_text)
    for i, title in enumerate(titles):
        bullet = "\n• " + title
        left_after = len(titles) - i - 1
        reserve = len(f"\n… and {left_after} more") if left_after else 0
        if len(text) + len(bullet) + reserve > max_text:
            more = f"\n… and {len(titles) - i} more"
            if len(text) + len(more) <= max_text:
                text += more
            break
        text += bullet
    return text


def split_slack_blocks(
    blocks: Sequence[dict], max_blocks: int = SLACK_MAX_BLOCKS, max_text: int = SLACK_MAX_TEXT
) -> list[dict]:
    """Blocks from `render_slack_blocks` (e.g. a stored `blocks_json`) as chat.postMessage payloads.

    Returns `[{"text": fallback, "blocks": [...]}, ...]`: each message has at most `max_blocks`
    blocks and every text field at most `max_text` chars. Splits fall between lines, never inside
    one (a line's title block and reason block stay together), and a section heading never ends a
    message. Messages after the first open with a "continued" context block and, mid-section, repeat
    the section heading.
    """
    if max_blocks < 5:
        raise ValueError("max_blocks must be at least 5")
    if max_text < 100:
        raise ValueError("max_text must be at least 100")
    blocks = _clip_texts(list(blocks), max_text)
    header = next((b for b in blocks if b.get("block_id") == "briefing-header"), None)
    title = str(header["text"]["text"]) if header else "Your briefing"
    summary = next(
        (b["text"]["text"] for b in blocks if b.get("block_id") in ("briefing-intro", "briefing-empty")), ""
    )
    units = _units(blocks)

    messages: list[list[dict]] = [[]]
    titles: list[list[str]] = [[]]
    section = ""

    def start_message() -> None:
        # Placeholder for the "continued" context block; filled once the number of parts is known.
        messages.append([{"type": "context", "block_id": "briefing-continued", "elements": []}])
        titles.append([])

    for k, unit in enumerate(units):
        need = len(unit.blocks)
        if unit.kind == "section":
            following = units[k + 1] if k + 1 < len(units) else None
            need += len(following.blocks) if following and following.kind == "line" else 0
        if messages[-1] and len(messages[-1]) + need > max_blocks:
            start_message()
            if unit.kind == "line" and section:
                messages[-1].append(_section_heading(section, continued=True))
        if unit.kind == "section":
            section = unit.section
        messages[-1].extend(unit.blocks)
        if unit.kind == "line":
            titles[-1].append(unit.title)

    parts = len(messages)
    out = []
    for n, (msg, msg_titles) in enumerate(zip(messages, titles, strict=True), 1):
        head = _slack_esc(title) + (f" ({n}/{parts})" if parts > 1 else "")
        if n > 1:
            label = _clip_mrkdwn(f"{_slack_esc(title)} · continued ({n}/{parts})", max_text)
            msg[0]["elements"] = [{"type": "mrkdwn", "text": label}]
        out.append(
            {"text": _fallback_text(head, msg_titles, summary if n == 1 else "", max_text), "blocks": msg}
        )
    return out


def split_slack_messages(
    b: Briefing, max_blocks: int = SLACK_MAX_BLOCKS, max_text: int = SLACK_MAX_TEXT
) -> list[dict]:
    """The briefing as chat.postMessage payloads; see `split_slack_blocks` for the guarantees.

    A single line too long for `max_text` is shortened with an ellipsis, keeping its links if they fit.
    """
    return split_slack_blocks(render_slack_blocks(b, max_text), max_blocks, max_text)


# ---------------------------------------------------------------------------------------------------
# HTML email


def _html_page(b: Briefing, page: Page) -> str:
    return _HTML_PAGE.render(title=title_of(b), intro=b.intro, sections=page, partial=b.partial, more=b.more)


def render_html(b: Briefing, *, renderer: LineRenderer | None = None) -> str:
    return _html_page(b, _page(b, renderer))


# ---------------------------------------------------------------------------------------------------


def render_into(b: Briefing, *, renderer: LineRenderer | None = None) -> Briefing:
    """A copy of `b` with `markdown`, `blocks_json` and `html` rendered from its lines and intro.

    Each line's fragments come from `renderer` once and serve all three pages; the Slack blocks are
    rendered for `SLACK_MAX_TEXT`, so a `renderer` must render for it too.
    """
    page = _page(b, renderer, SLACK_MAX_TEXT)
    return b.model_copy(
        update={
            "markdown": _markdown_page(b, page),
            "blocks_json": json.dumps(_slack_page(b, page, SLACK_MAX_TEXT), ensure_ascii=False),
            "html": _html_page(b, page),
        }
    )
