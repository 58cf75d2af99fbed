"""Small pieces of a briefing page shared by the renderers: the "+N more" note of a capped section,
and the clipping of already-escaped Slack mrkdwn (`briefing_rendering.split_slack_blocks`)."""

from __future__ import annotations

ELLIPSIS = "…"


def more_text(n: int) -> str:
    """The note under a section that left `n` lines out."""
    return f"+{n} more"


def more_block(section: str, n: int) -> dict:
    """The Slack context block of `more_text` under `section`."""
    return {
        "type": "context",
        "block_id": f"section-{section}-more",
        "elements": [{"type": "mrkdwn", "text": more_text(n)}],
    }


def clip_mrkdwn(text: str, max_text: int) -> str:
    """Shorten already-escaped mrkdwn without splitting an `&entity;` or a `<link|label>`."""
    if len(text) <= max_text:
        return text
    cut = text[: max_text - len(ELLIPSIS)]
    if cut.rfind("<") > cut.rfind(">"):
        cut = cut[: cut.rfind("<")]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + ELLIPSIS


def clip_texts(obj, max_text: int):
    if isinstance(obj, dict):
        return {
            k: clip_mrkdwn(v, max_text) if k == "text" and isinstance(v, str) else clip_texts(v, max_text)
            for k, v in obj.items()
        }
    if isinstance(obj, list):
        return [clip_texts(v, max_text) for v in obj]
    return obj
