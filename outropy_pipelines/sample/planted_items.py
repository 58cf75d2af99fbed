"""Work items planted for the answer key: the templated ones spread over the week, the private
secret, and two conversations interleaved in one channel. (Incidents are in `incidents`; the new
joiner's announcement is in `directory`.)"""

from __future__ import annotations

from outropy_pipelines.sample.item_templates import (
    ACKS,
    ACTION_TEMPLATES,
    ANNOUNCEMENT_TEMPLATES,
    BLOCKER_TEMPLATES,
    DECISION_TEMPLATES,
    QUESTION_TEMPLATES,
    STATUS_TEMPLATES,
    THREAD_ROOTS,
    template_slots,
)
from outropy_pipelines.sample.people_and_channels import PROJECT_OF
from outropy_pipelines.sample.workspace import SAMPLE_DAYS, SampleWorkspace


def plant_templated(ws: SampleWorkspace) -> None:
    """Items from the template pools, spread over days, channels and thread/top-level positions."""
    plan: list[tuple[str, int, list[tuple], list[str]]] = [
        ("decision", 8, DECISION_TEMPLATES,
         ["proj-atlas", "proj-borealis", "engineering", "design", "mpdm-alice--bob--carol-1", "proj-atlas",
          "engineering", "proj-borealis"]),
        ("action_item", 14, ACTION_TEMPLATES,
         ["engineering", "proj-atlas", "proj-borealis", "dm-alice-bob", "design", "engineering", "proj-atlas",
          "proj-borealis", "mpdm-alice--bob--carol-1", "engineering", "proj-atlas", "proj-atlas", "engineering",
          "proj-borealis"]),
        ("question", 12, QUESTION_TEMPLATES,
         ["engineering", "proj-atlas", "proj-borealis", "dm-alice-bob", "mpdm-alice--bob--carol-1", "design",
          "general", "engineering", "proj-atlas", "proj-borealis", "leadership", "engineering"]),
        ("blocker", 8, BLOCKER_TEMPLATES,
         ["engineering", "proj-atlas", "proj-borealis", "engineering", "proj-atlas", "proj-borealis",
          "engineering", "deploys"]),
        ("announcement", 6, ANNOUNCEMENT_TEMPLATES,
         ["general", "engineering", "general", "engineering", "general", "general"]),
        ("status_update", 10, STATUS_TEMPLATES,
         ["proj-atlas", "proj-borealis", "engineering", "proj-atlas", "proj-borealis", "general",
          "proj-atlas", "proj-borealis", "engineering", "proj-borealis"]),
    ]  # fmt: skip
    rng = ws.rng
    for kind, count, templates, channels in plan:
        days = [i % 5 for i in range(count)]
        rng.shuffle(days)
        if kind == "status_update":
            days[-1] = 5  # something happens at the weekend too
        for i in range(count):
            conv = ws.convs[channels[i]]
            day = days[i]
            template = templates[i % len(templates)]
            author = rng.choice(conv.humans)
            others = [u for u in conv.humans if u != author]
            owner = rng.choice(others)
            for _ in range(200):  # no two planted items say the same thing
                slots = template_slots(rng, PROJECT_OF.get(conv.key), owner)
                text = template[0].format(**slots)
                title = template[1].format(**slots)
                title = title[0].upper() + title[1:]
                if text not in ws.used_texts and title not in ws.used_texts:
                    break
            else:  # pragma: no cover
                raise RuntimeError(f"could not find a unique {kind} text")
            ws.used_texts.update((text, title))
            self_commit = template[0].startswith(("I ", "I'"))  # "I'll take...", "I can own..."
            owners: list[str] = []
            if kind in ("action_item", "question"):
                owners = [author] if self_commit else [owner]
            mode = ("top", "thread", "top_acks")[(i + len(kind)) % 3]
            sec = ws.pick_sec(conv, day, latest=(21, 0))
            root_sec = sec - rng.randrange(300, 1800)
            while not ws.is_free(conv, root_sec) or root_sec < ws.at(day, 0, 0):
                sec = ws.pick_sec(conv, day, latest=(21, 0))
                root_sec = sec - rng.randrange(300, 1800)
            root = None
            if mode == "thread":
                root_author = rng.choice(others)
                root_text = ws.fill(rng.choice(THREAD_ROOTS), conv, root_author)
                root = ws.post(conv, root_author, root_text, root_sec)
                ws.protected.add((conv.key, root["ts"]))
                msg = ws.post(conv, author, text, sec, parent=root)
            else:
                msg = ws.post(conv, author, text, sec)
            item = ws.plant_item(kind, conv, msg, title, owners)
            thread_root = root or msg
            t = sec
            if mode == "top_acks" and ACKS[kind]:
                for _ in range(rng.randrange(1, 3)):
                    t += rng.randrange(40, 600)
                    who = owner if kind == "action_item" and not self_commit else rng.choice(others)
                    ack = ws.reply(conv, thread_root, who, rng.choice(ACKS[kind]), t)
                    ws.protected.add((conv.key, ack["ts"]))
            if kind in ("action_item", "question", "blocker") and len(template) > 2:
                pattern = ("same_day", "later", "open")[i % 3]
                closer = author if kind == "blocker" else owners[0]
                closing = template[2].format(**slots)
                if pattern == "same_day":
                    ws.close_item(item, conv, thread_root, closer, closing, t + rng.randrange(900, 7200))
                elif pattern == "later":
                    later = min(day + rng.choice([1, 1, 2, 3]), SAMPLE_DAYS - 1)
                    hour = rng.choice([8, 9, 10, 11, 14, 15, 16])
                    ws.close_item(
                        item, conv, thread_root, closer, closing, ws.at(later, hour, rng.randrange(60))
                    )


def plant_secret(ws: SampleWorkspace) -> None:
    """A decision in the private leadership channel; its phrase must not reach anyone outside it."""
    conv = ws.convs["leadership"]
    phrase = "PRIVATE-SECRET: acquisition of Zephyr Labs closes 2026-12-01"
    msg = ws.post(
        conv,
        "ben",
        f"Decision: {phrase}. We go ahead at the agreed price; please keep this inside this channel until the "
        "all-hands announcement.",
        ws.at(1, 16, 10, 5),
    )
    ws.plant_item("decision", conv, msg, "Go ahead with the Zephyr Labs acquisition (closes 2026-12-01)", [])
    ws.reply(conv, msg, "olivia", "understood :+1:", ws.at(1, 16, 14, 0))
    ws.reply(conv, msg, "anna", "noted, finance is ready for the closing", ws.at(1, 16, 31, 0))
    ws.secret = {
        "channel_id": conv.id,
        "ts": msg["ts"],
        "phrase": phrase,
        "members": list(conv.members),
    }


def plant_interleaving(ws: SampleWorkspace) -> None:
    """Two conversations alternating message by message in #engineering, in a window reserved for them
    (nothing else is posted there), each with an item planted in it."""
    conv = ws.convs["engineering"]
    day = 2
    conv.reserved.append((ws.at(day, 13, 45), ws.at(day, 14, 35)))
    sam, hiro = ws.uid["sam"], ws.uid["hiro"]
    a = [
        ("dan", "the payments integration suite timed out again on main"),
        ("leo", "third time today, it's the sandbox webhook step every time"),
        ("dan", "looks like the sandbox is rate limiting us since this morning"),
        ("leo", "we could stub the webhook call in CI and keep one nightly run against the real sandbox"),
        ("dan", "good idea. I'll open a PR to stub the sandbox webhook this afternoon"),
        ("leo", "great, ping me when it's up"),
    ]
    b = [
        ("sam", f"<@{hiro}> the bundle size jumped 40kb after yesterday's icon change"),
        ("hiro", f"<@{sam}> ah, that's the full icon set being imported in the cart drawer"),
        ("sam", f"<@{hiro}> right, the named imports only pull in what we use elsewhere"),
        ("hiro", f"<@{sam}> switching to per-icon imports brings it back down to 212kb locally"),
        (
            "sam",
            f"<@{hiro}> nice. ok let's go with per-icon imports everywhere and add a bundle size budget to CI",
        ),
        ("hiro", f"<@{sam}> :+1: adding the lint rule now"),
    ]
    t = ws.at(day, 14, 0, 12)
    conversations: list[list[str]] = [[], []]
    for step in range(len(a)):
        for which, lines in enumerate((a, b)):
            user, text = lines[step]
            msg = ws.post(conv, user, text, t)
            ws.protected.add((conv.key, msg["ts"]))
            conversations[which].append(msg["ts"])
            if step == 4 and which == 0:
                ws.plant_item(
                    "action_item",
                    conv,
                    msg,
                    "Open a PR to stub the sandbox webhook in CI",
                    [ws.uid["dan"]],
                )
            if step == 4 and which == 1:
                ws.plant_item(
                    "decision", conv, msg, "Use per-icon imports and add a bundle size budget to CI", []
                )
            t += ws.rng.randrange(45, 70)
    ws.interleaving = {"channel_id": conv.id, "conversations": conversations}
