"""Rendering many briefings of one day: each distinct line rendered once for the whole batch.

The same item is a line in many readers' briefings, with the same title and links and often the
same reason and channel label. Rendering lines (escaping, the label-in-reason check, URL
sanitising, Slack length fitting) is most of a briefing's rendering cost, so `RenderCache` keeps
each distinct line's `LineFragments` and hands it to every briefing the line appears in. It is a
fragment provider for `briefing_rendering`'s own page functions:

    render_into(b, renderer=cache)
    render_plain_text(b, renderer=cache)
"""

from __future__ import annotations

from outropy_pipelines.domain.briefing_rendering import SLACK_MAX_TEXT, LineFragments, LineRenderer
from outropy_pipelines.domain.models import BriefingLine


class RenderCache(LineRenderer):
    """A `LineRenderer` that renders each distinct line once: one cache per day's batch of briefings.

    A line's fragments are a function of its title, reason, channel label and permalinks (its
    position and section only matter to the page), so those fields are the key.
    """

    def __init__(self, max_text: int = SLACK_MAX_TEXT) -> None:
        super().__init__(max_text)
        self._lines: dict[tuple, LineFragments] = {}

    def __len__(self) -> int:
        """The number of distinct lines rendered so far."""
        return len(self._lines)

    def __call__(self, line: BriefingLine) -> LineFragments:
        key = (line.text, line.reason, line.channel_name, tuple(line.permalinks))
        frag = self._lines.get(key)
        if frag is None:
            frag = self._lines[key] = LineFragments(*key, self.max_text)
        return frag
