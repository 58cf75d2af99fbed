"""A day's briefings: the day's items indexed once, so each reader costs selection, not a scan.

The rules of a line (access control, `placement`, `score`, `reason`) are `briefing_ranking`'s; this
module decides which items each reader gets, in what order, under the section caps. A
`BriefingIndex` does the reader-independent work once per day and answers `rank_for(reader)`:
every item the reader may see, placed by `placement`, each section sorted by (-score, item_id) and
cut to its cap, sections in BRIEFING_SECTIONS order, at most `max_lines` lines in all.

- Personal candidates (the reader is an owner or mentioned): looked up by user id and placed with
  the reader's own facts.
- Everything else can only reach a reader through a few reader-independent routes, each kept as a
  list sorted once by the exact sort key the reader will see (`(-score, item_id)`, the score
  computed by `score` with the membership boost the route implies):
    * member channel (per channel): decisions, incidents and open blockers, updates;
    * visible channel the reader is not a member of: incidents (everyone who can see them), and
      decisions about a project the reader follows (one list per project).
  A reader's section takes the first `cap` accepted entries of the merged lists of their routes.
  Because a route fixes the membership boost, the key an entry has for any reader who reaches it
  through that route is the key it was sorted by (the same `score`, so the same rounding and
  ties), hence the first `cap` accepted entries of the merged routes are the section's best
  non-personal candidates, and nothing further down can make the cut.
- Every accepted entry passes the access-control rule (channel and all source channels visible) and
  the "resolved and authored by the reader" rule, both checked per reader.
- Rare items are placed one by one for each reader: items whose `item_id` or set of sources occurs
  twice in the day, the reader's carried `OpenItem`s (older asks from entity memory that are still
  theirs), and the day's items citing the same messages as one of those. Among them, in briefing
  order, a line whose item_id or sources an earlier one has is dropped (the best placement counts,
  the first one on a tie), so no briefing shows one item, or one set of messages, twice. Every
  other item shares neither with any candidate, so the routes' first `cap` entries stay exact.

- The waiting sections (`briefing_waiting`) come first: `rank_for(shown=...)` leaves their items out
  (by item_id, set of sources, or conversation and title) of every route, the personal candidates
  and the rare items.

Reasons are worded only for the lines that make the briefing. `outropy_pipelines_tests/
reference_ranking.py` keeps a slow reference (every item classified for every reader) that the
tests compare this with.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from outropy_pipelines.domain.briefing_merge import Entry, take, unique
from outropy_pipelines.domain.briefing_ranking import (
    BLOCKERS_INCIDENTS,
    DECISIONS,
    DEFAULT_SECTION_CAPS,
    TIER_KIND,
    UPDATES,
    ReaderContext,
    ScoredItem,
    Why,
    authored_by_reader,
    briefing_line,
    channel_label,
    default_intro,
    is_visible_to,
    open_item_as_item,
    placement,
    reaches_non_members,
    reason,
    score,
    scored_line,
    sorted_sources,
    source_key,
    within_caps,
)
from outropy_pipelines.domain.briefing_render_cache import RenderCache
from outropy_pipelines.domain.briefing_rendering import render_into
from outropy_pipelines.domain.briefing_waiting import Waiting, waiting_for, waiting_line
from outropy_pipelines.domain.models import (
    BRIEFING_SECTIONS,
    Briefing,
    BriefingLine,
    Channel,
    Item,
    OpenItem,
    ReaderPreferences,
    SourceRef,
    User,
)
from outropy_pipelines.domain.permalinks import permalink
from outropy_pipelines.domain.reader_feedback import Applied, ReaderAdjustments, rank_with_feedback
from outropy_pipelines.domain.reader_preferences import apply_preferences, ranking_limits

_SECTION_INDEX = {s: i for i, s in enumerate(BRIEFING_SECTIONS)}
_NOBODY = object()  # "no single author" (never equal to a user id)
_ROUTE, _PERSONAL, _CARRIED = 0, 1, 2  # a candidate's line: shared by readers, the reader's own, made already


def _project_of(entities: tuple[tuple[str, str], ...], projects: frozenset[str]) -> str | None:
    """`followed_project` of an item's (sorted entity, lower-cased entity) pairs."""
    return next((e for e, norm in entities if norm in projects), None)


class BriefingIndex:
    """One day's items, indexed for fast per-reader ranking and briefing assembly.

    `channels` is the membership snapshot (who may see what), `user_names` names people in
    reasons and labels, `thread_ts_of[(channel_id, ts)]` is a message's thread root (for reply
    permalinks) and `authors_of[(channel_id, ts)]` its author (for "asked by" and for dropping
    resolved items the reader wrote themselves).
    """

    def __init__(
        self,
        day: str,
        items: Sequence[Item],
        channels: Mapping[str, Channel] | None,
        user_names: Mapping[str, str] | None,
        workspace_url: str = "",
        thread_ts_of: Mapping[tuple[str, str], str | None] | None = None,
        *,
        authors_of: Mapping[tuple[str, str], str | None] | None = None,
    ) -> None:
        self.day = day
        self.channels = channels
        self.user_names = user_names
        self.workspace_url = workspace_url
        self.thread_ts_of = thread_ts_of
        self.authors_of = authors_of

        channel_list = list((channels or {}).values())
        self._public = frozenset(c.channel_id for c in channel_list if c.kind == "public")
        member_of: dict[str, set[str]] = defaultdict(set)
        for c in channel_list:
            for u in c.members:
                if u:
                    member_of[u].add(c.channel_id)
        self._member_of = {u: frozenset(cs) for u, cs in member_of.items()}

        new_items = self.new_items = [i for i in items if i.is_new]
        self._new_ids = frozenset(i.item_id for i in new_items)
        seen: set[str] = set()
        dup_ids: set[str] = set()
        seen_keys: set[frozenset] = set()
        dup_keys: set[frozenset] = set()
        keys = [source_key(i.sources) for i in new_items]
        for i, key in zip(new_items, keys, strict=True):
            (dup_ids if i.item_id in seen else seen).add(i.item_id)
            if key is not None:
                (dup_keys if key in seen_keys else seen_keys).add(key)
        # Items sharing an item_id or their sources: placed one by one for each reader who can get
        # them (`_rare_for`, `_rare`).
        rare = [i.item_id in dup_ids or k in dup_keys for i, k in zip(new_items, keys, strict=True)]
        self._rare_anyone: list[int] = []
        self._rare_members: dict[str, list[int]] = defaultdict(list)
        self._rare_personal: dict[str, list[int]] = defaultdict(list)
        # the other items by their sources, to find those a reader's carried item cites too
        self._idx_by_key: dict[frozenset, int] = {}

        self._items: list[Item] = []
        self._owners: list[frozenset[str]] = []
        self._mentions: list[frozenset[str]] = []
        self._foreign: list[tuple[str, ...]] = []  # source channels other than the item's own
        self._keys: list[frozenset | None] = []  # source_key
        self._author: list[object] = []  # the single author of a resolved item, else _NOBODY
        self._entities: list[tuple[tuple[str, str], ...]] = []
        self._check: list[tuple | None] = []  # None: nothing per-reader to check beyond the channel
        self._member_why: list[Why | None] = []  # why a member of the channel gets it (not personally)
        self._by_user: dict[str, list[int]] = defaultdict(list)
        member_lists: dict[str, tuple[list[Entry], list[Entry], list[Entry]]] = {}
        public_incidents: list[Entry] = []
        public_decisions: dict[str, list[Entry]] = defaultdict(list)
        other_incidents: dict[str, list[Entry]] = defaultdict(list)
        other_decisions: dict[str, list[Entry]] = defaultdict(list)

        for item, key, is_rare in zip(new_items, keys, rare, strict=True):
            idx = len(self._items)
            cid = item.channel_id
            owners, mentions = frozenset(item.owners), frozenset(item.mentions)
            foreign = tuple(dict.fromkeys(s.channel_id for s in item.sources if s.channel_id != cid))
            author: object = _NOBODY
            if item.status == "resolved" and authors_of and item.sources:
                authors = {authors_of.get((s.channel_id, s.ts)) for s in item.sources}
                if len(authors) == 1:
                    author = next(iter(authors))
            entities = tuple((e, e.strip().lower()) for e in sorted(item.entities))
            personal = owners | mentions
            self._items.append(item)
            self._owners.append(owners)
            self._mentions.append(mentions)
            self._foreign.append(foreign)
            self._keys.append(key)
            self._author.append(author)
            self._entities.append(entities)
            self._check.append(
                None if not (personal or foreign or author is not _NOBODY) else (personal, foreign, author)
            )
            if is_rare:
                (self._rare_anyone if reaches_non_members(item) else self._rare_members[cid]).append(idx)
                for u in personal:
                    self._rare_personal[u].append(idx)
                self._member_why.append(None)
                continue
            if key is not None:
                self._idx_by_key[key] = idx
            for u in personal:
                self._by_user[u].append(idx)

            # Non-personal routes (readers who are neither owner nor mentioned).
            placed = placement(item, member=True, mine=False, mentioned=False, project=None)
            self._member_why.append(None if placed is None else placed[2])
            if placed is not None:
                section, tier, _ = placed
                lists = member_lists.setdefault(cid, ([], [], []))
                lists[section - 1].append((-score(tier, item, True), item.item_id, idx))
            if reaches_non_members(item):
                entry = (-score(TIER_KIND[item.kind], item, False), item.item_id, idx)
                if item.kind == "incident":
                    (public_incidents if cid in self._public else other_incidents[cid]).append(entry)
                elif cid in self._public:
                    for norm in {n for _, n in entities}:
                        public_decisions[norm].append(entry)
                else:
                    other_decisions[cid].append(entry)

        for lists in member_lists.values():
            for lst in lists:
                lst.sort()
        self._member_lists = member_lists
        self._public_incidents = sorted(public_incidents)
        self._public_decisions = {p: sorted(v) for p, v in public_decisions.items()}
        self._other_incidents = {c: sorted(v) for c, v in other_incidents.items()}
        self._other_decisions = {c: sorted(v) for c, v in other_decisions.items()}
        self._idx_of = {id(item): idx for idx, item in enumerate(self._items)}
        self._line_parts: dict[int, tuple[list[SourceRef], list[str]]] = {}
        self._labels: dict[str, str] = {}
        self._shared: dict[tuple, ScoredItem] = {}
        self.renderer = RenderCache()

    # -----------------------------------------------------------------------------------------------
    # Readers

    def reader_context(self, user_id: str, projects: Iterable[str] = ()) -> ReaderContext:
        """Equals `reader_context(user_id, channels.values(), projects)`, from the membership index."""
        member = self._member_of.get(user_id, frozenset()) if user_id else frozenset()
        return ReaderContext(
            user_id=user_id,
            visible_channels=self._public | member,
            member_channels=member,
            projects=frozenset(p.strip().lower() for p in projects if p.strip()),
        )

    def label(self, channel_id: str, reader_id: str) -> str:
        """`channel_label`, cached for conversations whose label does not depend on the reader."""
        label = self._labels.get(channel_id)
        if label is not None:
            return label
        label = channel_label(channel_id, self.channels, reader_id, self.user_names)
        channel = (self.channels or {}).get(channel_id)
        if channel is None or channel.kind in ("public", "private"):
            self._labels[channel_id] = label
        return label

    # -----------------------------------------------------------------------------------------------
    # Ranking

    def rank_for(
        self,
        reader: ReaderContext,
        *,
        max_lines: int = 25,
        open_items: Sequence[OpenItem] = (),
        section_caps: Mapping[str, int] | None = None,
        shown: Waiting | None = None,
    ) -> list[ScoredItem]:
        """The reader's lines in briefing order: by section (BRIEFING_SECTIONS), then score (highest
        first), then item_id; each section cut to its cap (`section_caps`, default
        DEFAULT_SECTION_CAPS), at most `max_lines` in all. `open_items` are the reader's carried
        asks from entity memory (those whose id is not among the day's new items count). Items
        whose item_id or set of sources `shown` (the waiting sections above) holds are left out."""
        caps = dict(DEFAULT_SECTION_CAPS if section_caps is None else section_caps)
        uid = reader.user_id
        visible, member_channels, projects = reader.visible_channels, reader.member_channels, reader.projects
        items, owners_of, mentions_of = self._items, self._owners, self._mentions
        check_of = self._check

        # (section, -score, item_id, origin, payload): payload is (idx, why, project) or a ScoredItem.
        candidates: list[tuple] = []

        # Shown above (the waiting sections): by item_id or sources, never again below.
        shown_ids = shown.ids if shown is not None else frozenset()
        shown_keys = shown.keys if shown is not None else frozenset()
        shown_titles = shown.titles if shown is not None else frozenset()
        keys_of = self._keys

        def hidden(idx: int) -> bool:
            if not shown_ids:
                return False
            item = items[idx]
            return (
                item.item_id in shown_ids
                or keys_of[idx] in shown_keys
                or (item.channel_id, item.title) in shown_titles
            )

        # The reader's carried open items, and the day's items citing the same messages as one of
        # them: both are placed one by one (step 3), so the routes skip the latter.
        carried = [o for o in open_items if o.item_id not in self._new_ids and uid in o.owners]
        same: set[int] = set()
        for o in carried:
            key = source_key(o.sources)
            if key is not None and key in self._idx_by_key:
                same.add(self._idx_by_key[key])
        same_sources = frozenset(same)

        # 1. Personal candidates: every item the reader owns or is mentioned in.
        for idx in self._by_user.get(uid, ()):
            if idx in same_sources or hidden(idx):
                continue
            candidate = self._candidate(idx, reader)
            if candidate is not None:
                candidates.append(candidate)

        # 2. Non-personal candidates, per section the first `cap` accepted entries of each route.
        def plain_ok(entry: Entry) -> bool:
            if same_sources and entry[2] in same_sources:
                return False  # placed with the reader's carried items
            if hidden(entry[2]):
                return False
            check = check_of[entry[2]]
            if check is None:
                return True
            personal, foreign, author = check
            if uid in personal:
                return False  # already a personal candidate
            for c in foreign:
                if c not in visible:
                    return False
            return author != uid

        def outside_ok(entry: Entry) -> bool:
            cid = items[entry[2]].channel_id
            return cid in visible and cid not in member_channels and plain_ok(entry)

        def project_ok(entry: Entry) -> bool:
            return bool(_project_of(self._entities[entry[2]], projects)) and outside_ok(entry)

        limit = {s: min(caps.get(s, max_lines), max_lines) for s in BRIEFING_SECTIONS}
        routes: tuple[list, list, list] = ([], [], [])
        for cid in member_channels:
            lists = self._member_lists.get(cid)
            if lists is not None and cid in visible:
                for section_lists, lst in zip(routes, lists, strict=True):
                    if lst:
                        section_lists.append(lst)
        picked: list[tuple[int, Entry, Why | None]] = []
        for section, section_lists in zip((DECISIONS, BLOCKERS_INCIDENTS, UPDATES), routes, strict=True):
            k = limit[BRIEFING_SECTIONS[section]]
            picked += [(section, e, None) for e in take(section_lists, k, plain_ok)]
        # Visible conversations the reader is not a member of: public ones, and any others the
        # reader context grants (none for contexts built from the membership snapshot).
        others = (visible - self._public) - member_channels
        k = limit["blockers_incidents"]
        incident_lists = [self._public_incidents] if self._public_incidents else []
        incident_lists += [self._other_incidents[c] for c in others if c in self._other_incidents]
        picked += [(BLOCKERS_INCIDENTS, e, "incident") for e in take(incident_lists, k, outside_ok)]
        if projects:
            k = limit["decisions"]
            decision_lists = [self._public_decisions[p] for p in projects if p in self._public_decisions]
            decision_lists += [self._other_decisions[c] for c in others if c in self._other_decisions]
            decisions = take(unique(decision_lists), k, project_ok)
            picked += [(DECISIONS, e, "decision_project") for e in decisions]
        for section, (neg_score, item_id, idx), route_why in picked:
            why = self._member_why[idx] if route_why is None else route_why
            project = _project_of(self._entities[idx], projects) if why == "decision_project" else None
            candidates.append((section, neg_score, item_id, _ROUTE, (idx, why, project)))

        # 3. Rare items, placed one by one: items sharing an item_id or sources, the reader's carried
        # open items and the day's items citing the same messages as those.
        rare = self._rare_for(reader)
        if carried or rare:
            shown_all = (shown_ids, shown_keys, shown_titles)
            candidates += self._rare(reader, [*rare, *sorted(same_sources)], carried, shown_all)

        # 4. The caps, then reasons for the chosen lines only.
        candidates.sort(key=_candidate_key)
        out: list[ScoredItem] = []
        for section, neg_score, _, origin, payload in within_caps(
            candidates, _candidate_section, max_lines, caps
        ):
            name = BRIEFING_SECTIONS[section]
            if origin == _CARRIED:
                out.append(payload)
                continue
            idx, why, project = payload
            item = items[idx]
            label = self.label(item.channel_id, uid)
            if origin == _PERSONAL:
                text = reason(
                    item,
                    why,
                    reader_id=uid,
                    label=label,
                    mentioned=uid in mentions_of[idx],
                    mine=uid in owners_of[idx],
                    project=project,
                    user_names=self.user_names,
                    authors_of=self.authors_of,
                )
                out.append(ScoredItem(item, name, -neg_score, text))
                continue
            # Not the reader's own item: its line depends on the reader only through the label and
            # the route (why, followed project, and the score, which holds the membership boost),
            # so it is shared by every reader alike.
            key = (idx, label, why, project, neg_score)
            scored = self._shared.get(key)
            if scored is None:
                text = reason(
                    item,
                    why,
                    reader_id=uid,
                    label=label,
                    mentioned=False,
                    mine=False,
                    project=project,
                    user_names=self.user_names,
                )
                scored = self._shared[key] = ScoredItem(item, name, -neg_score, text)
            out.append(scored)
        return out

    def _candidate(self, idx: int, reader: ReaderContext) -> tuple | None:
        """The day's item `idx` placed for `reader`: (section, -score, item_id, origin, (idx, why,
        project)), the origin `_PERSONAL` when the reader owns it or is mentioned, else `_ROUTE`;
        None when the reader may not see it, wrote it (resolved, every source theirs), or it is not
        for them (`placement`)."""
        item = self._items[idx]
        uid, visible = reader.user_id, reader.visible_channels
        cid = item.channel_id
        if cid not in visible or any(c not in visible for c in self._foreign[idx]):
            return None
        if self._author[idx] == uid:
            return None
        member = cid in reader.member_channels
        project = _project_of(self._entities[idx], reader.projects) if item.kind == "decision" else None
        mine, mentioned = uid in self._owners[idx], uid in self._mentions[idx]
        placed = placement(item, member=member, mine=mine, mentioned=mentioned, project=project)
        if placed is None:
            return None
        section, tier, why = placed
        origin = _PERSONAL if mine or mentioned else _ROUTE
        return section, -score(tier, item, member), item.item_id, origin, (idx, why, project)

    def _rare_for(self, reader: ReaderContext) -> list[int]:
        """The day's rare items that `placement` can place for the reader, in index order: those
        any reader who sees them may get (`reaches_non_members`), those of the conversations they
        are a member of, and their own (owner or mentioned). `_candidate` checks each."""
        rare = set(self._rare_anyone)
        rare.update(self._rare_personal.get(reader.user_id, ()))
        for cid in reader.member_channels:
            rare.update(self._rare_members.get(cid, ()))
        return sorted(rare)

    def _rare(
        self, reader: ReaderContext, indexes: Sequence[int], carried: Sequence[OpenItem], shown: tuple
    ) -> list[tuple]:
        """The candidates of the day's items `indexes` (the rare items that can be the reader's,
        then the items citing the messages of a carried one) and of the reader's carried open items
        (origin `_CARRIED`, their `ScoredItem` made here), each checked and placed for this reader;
        then, in briefing order, those whose item_id or sources an earlier one has are dropped (the
        best placement counts, the first one on a tie)."""
        uid = reader.user_id
        shown_ids, shown_keys, shown_titles = shown  # the waiting sections' (ids, keys, titles)
        items, keys_of = self._items, self._keys
        placed: list[tuple[tuple, frozenset | None]] = []  # (candidate, source_key)
        for idx in indexes:
            if (items[idx].channel_id, items[idx].title) in shown_titles:
                continue
            candidate = self._candidate(idx, reader)
            if candidate is not None:
                placed.append((candidate, keys_of[idx]))
        for o in carried:
            item = open_item_as_item(o)
            if (item.channel_id, item.title) in shown_titles:
                continue
            if not is_visible_to(reader, item.channel_id, item.sources):
                continue
            if item.status == "resolved" and authored_by_reader(item, uid, self.authors_of):
                continue
            line = scored_line(
                item,
                reader,
                self.label(item.channel_id, uid),
                open_since=o.since_day,
                user_names=self.user_names,
                authors_of=self.authors_of,
            )
            if line is not None:
                candidate = (_SECTION_INDEX[line.section], -line.score, item.item_id, _CARRIED, line)
                placed.append((candidate, source_key(item.sources)))
        kept: list[tuple] = []
        ids: set[str] = set(shown_ids)
        keys: set[frozenset] = set(shown_keys)
        # stable: the first considered wins a tie
        for candidate, key in sorted(placed, key=lambda p: _candidate_key(p[0])):
            item_id = candidate[2]
            if item_id in ids or (key is not None and key in keys):
                continue
            ids.add(item_id)
            if key is not None:
                keys.add(key)
            kept.append(candidate)
        return kept

    # -----------------------------------------------------------------------------------------------
    # Briefings

    def _sources_and_links(self, item: Item) -> tuple[list[SourceRef], list[str]]:
        idx = self._idx_of.get(id(item))
        parts = self._line_parts.get(idx) if idx is not None else None
        if parts is None:
            sources = sorted_sources(item.sources)
            thread_ts_of = self.thread_ts_of or {}
            links = [
                permalink(self.workspace_url, s.channel_id, s.ts, thread_ts_of.get((s.channel_id, s.ts)))
                for s in sources
            ]
            parts = (sources, links)
            if idx is not None:
                self._line_parts[idx] = parts
        return parts

    def build_briefing(
        self,
        user: User,
        open_items: Sequence[OpenItem] = (),
        *,
        projects: Iterable[str] = (),
        max_lines: int = 25,
        section_caps: Mapping[str, int] | None = None,
        render: bool = True,
        waiting_items: Sequence[OpenItem] = (),
        partial: str = "",
        preferences: ReaderPreferences | None = None,
        feedback: ReaderAdjustments | None = None,
        applied: Applied | None = None,
    ) -> Briefing:
        """The user's briefing of this index's day: the waiting sections of `waiting_items` (open
        items of any entity's memory, `briefing_waiting.waiting_for`), then `rank_for` their reader
        context without the items shown there, lines assembled; `partial` is the day's note;
        `preferences`, the reader's own, are applied to those lines (`reader_preferences`).

        Rendered by `self.renderer` (per-line fragments shared across the day's briefings);
        `render=False` leaves markdown, blocks and HTML empty. `feedback`: the reader's adjustments
        (`reader_feedback.rank_with_feedback`; what they changed goes into `applied`).
        """
        reader = self.reader_context(user.user_id, projects)
        waiting = waiting_for(self.day, reader, waiting_items, self.authors_of, self.user_names)
        # the reader's own preferences (reader_preferences) may need the lines past the caps
        limit, caps = ranking_limits(preferences, max_lines, section_caps)
        rank = functools.partial(self.rank_for, reader, open_items=open_items, shown=waiting)
        ranked = rank_with_feedback(
            rank, feedback, self.authors_of, max_lines=limit, section_caps=caps, applied=applied
        )
        shaped = apply_preferences(
            preferences, reader, waiting, ranked, self, max_lines=max_lines, section_caps=section_caps
        )
        briefing = shaped.into(self.assemble(user, shaped.ranked, shaped.waiting, partial))
        return render_into(briefing, renderer=self.renderer) if render else briefing

    def assemble(
        self, user: User, ranked: Sequence[ScoredItem], waiting: Waiting | None = None, partial: str = ""
    ) -> Briefing:
        """The (unrendered) briefing of `waiting`'s lines then `ranked` lines: sources, permalinks,
        labels and intro."""
        lines: list[BriefingLine] = []
        for w in waiting.lines if waiting is not None else ():
            sources, links = self._sources_and_links(open_item_as_item(w.item))
            label = self.label(w.item.channel_id, user.user_id)
            lines.append(waiting_line(len(lines), w, sources, links, label))
        for s in ranked:
            position = len(lines)
            sources, links = self._sources_and_links(s.item)
            lines.append(
                briefing_line(position, s, sources, links, self.label(s.item.channel_id, user.user_id))
            )
        return Briefing(
            day=self.day,
            user_id=user.user_id,
            user_name=user.display_name,
            intro=default_intro(self.day, lines),
            partial=partial,
            lines=lines,
            more=dict(waiting.more) if waiting is not None else {},
        )


def _candidate_key(candidate: tuple) -> tuple[int, float, str]:
    """Briefing order: section, then score (highest first), then item_id (unique among candidates)."""
    return candidate[0], candidate[1], candidate[2]


def _candidate_section(candidate: tuple) -> str:
    return BRIEFING_SECTIONS[candidate[0]]
