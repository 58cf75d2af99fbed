"""What each kind of work item is, and the rules every classifier follows, written once as data.

The openai provider's classification prompt is rendered from these (`llm/prompts.py`); the
labelling guide (`data/labels/LABELLING.md`, section "Kinds") gives the same definitions with
cases from the development set, and the local rules (`item_rules/`) implement them. Change a
definition here -> bump the prompt's version (`CLASSIFY_THREAD.version`).
"""

from __future__ import annotations

from outropy_pipelines.domain.models import ITEM_KINDS

#: one or two sentences per kind, keyed by every kind of `models.ITEM_KINDS` (in that order)
KIND_DEFINITIONS: dict[str, str] = {
    "decision": (
        'A statement that settles what will or will not be done ("we don\'t plan to support X", '
        '"we\'ll ship the fix for Y in the next release"), an approval or a decision reported from '
        "elsewhere too. Not opinions or tentative plans."
    ),
    "action_item": (
        "A request or a commitment to do a specific thing. Owners: who is asked, or the speaker who "
        'commits; none when asked of nobody in particular ("volunteers wanted", a feature wish). '
        "Not conditional offers, vague intentions or attendance."
    ),
    "question": (
        "A question to a person or to the channel that wants an answer; a channel question with "
        "nobody named stays open for the channel's readers until someone answers."
    ),
    "blocker": (
        "A report that something fails, errors, hangs or is stuck and one person's or team's work "
        "cannot proceed. The reporter is the asker; a maintainer's reply can close it."
    ),
    "incident": "A shared service or production system is down or failing for many (an outage).",
    "announcement": (
        "News broadcast to the channel: events, releases, reminders, schedule changes; a welcome or "
        "introduction (not a task for the newcomer)."
    ),
    "status_update": "Real progress or an outcome (merged, fixed, submitted, works now); never filler.",
}

#: the rules for every kind: what is an item at all, closing replies, owners, faithful titles
GENERAL_RULES: tuple[str, ...] = (
    "Only items the messages clearly support: thanks, greetings, opinions and plain answers are not "
    "items. A message can carry items of several kinds.",
    "question, action_item, blocker and incident are open until a later reply closes them "
    "(answered, fixed, done, won't do): then resolved, with the closing message in source_ids. "
    "The other kinds are info. A request and its acceptance are one item.",
    "Owners and mentions are user ids of `people`; owners are who must act or answer.",
    "Title: the message's own words, the one sentence that carries the item, trimmed, people as "
    "names; never a fragment stitched from pieces.",
    "source_ids: the messages the item comes from, the one carrying it first.",
    "Near-identical items from the same person on one day are one item.",
)


def kind_definition_lines() -> list[str]:
    """The definitions as `kind: definition` lines, in `ITEM_KINDS` order."""
    return [f"{kind}: {KIND_DEFINITIONS[kind]}" for kind in ITEM_KINDS]
