"""The sample's people, bots and conversations, and the people who join and leave during the week."""

from __future__ import annotations

from outropy_pipelines.sample.people_and_channels import (
    BOT_MEMBERS,
    BOTS,
    CONVERSATIONS,
    DELETED_PERSON,
    JOINS,
    PEOPLE,
)
from outropy_pipelines.sample.slack_records import (
    CREATED_BASE,
    bot_user_record,
    conversation_record,
    slackbot_record,
    user_profile_record,
    user_record,
)
from outropy_pipelines.sample.workspace import Conversation, SampleWorkspace


def build_directory(ws: SampleWorkspace) -> None:
    """The user records (people, the deactivated person, bots, Slackbot) and the conversations."""
    for i, (name, real, display, tz, title) in enumerate(PEOPLE, start=1):
        uid = f"U0{i:02d}{name.upper()[:7]}"
        ws.uid[name] = uid
        ws.users.append(user_record(uid, name, real, display, tz, title))
        ws.profiles[uid] = user_profile_record(uid, name, real, display)
    name, real, display, tz, title = DELETED_PERSON
    uid = f"U0{len(PEOPLE) + 1:02d}{name.upper()}"
    ws.uid[name] = uid
    ws.users.append(user_record(uid, name, real, display, tz, title, deleted=True))
    ws.profiles[uid] = user_profile_record(uid, name, real, display)
    for key, uid, bot_id, app_id, display in BOTS:
        ws.uid[key] = uid
        ws.bots[key] = (uid, bot_id, app_id, display)
        ws.users.append(bot_user_record(uid, key, bot_id, app_id, display))
    ws.users.append(slackbot_record())

    for key, cid, kind, member_names, topic, purpose in CONVERSATIONS:
        humans = [ws.uid[n] for n in member_names]
        members = humans + [ws.uid[b] for b in BOT_MEMBERS.get(key, [])]
        folder = cid if kind == "im" else key
        ws.convs[key] = Conversation(key, cid, key, kind, folder, members, humans, topic, purpose)


def conversation_records(ws: SampleWorkspace) -> list[tuple[str, dict]]:
    """The conversation records with their kinds, as `write_directory` takes them."""
    out = []
    for i, c in enumerate(ws.convs.values()):
        creator = c.humans[0]
        if c.key == "general":
            creator = ws.uid["ben"]
        out.append(
            (
                c.kind,
                conversation_record(
                    c.id,
                    c.name,
                    c.kind,
                    c.members,
                    creator,
                    CREATED_BASE + i * 86400 * 17,
                    c.topic,
                    c.purpose,
                ),
            )
        )
    return out


def plant_people_events(ws: SampleWorkspace) -> None:
    """Joins during the week (with the new joiner's welcome, a planted announcement) and the last
    messages of the person who leaves."""
    for person, key, day, hh, mm in JOINS:
        ws.join(ws.convs[key], person, ws.at(day, hh, mm, 11))
        uid = ws.uid[person]
        conv = ws.convs[key]
        if uid not in conv.members:
            conv.members.insert(len(conv.humans), uid)
            conv.humans.append(uid)
    general = ws.convs["general"]
    welcome = ws.post(
        general,
        "chloe",
        f"Please welcome <@{ws.uid['diego']}> who joins the Atlas team today as a backend engineer! :tada:",
        ws.at(0, 9, 15, 0),
    )
    ws.plant_item("announcement", general, welcome, "Diego Silva joins the Atlas team", [])
    for i, who in enumerate(["alice", "dan", "carol", "rosa"]):
        ws.reply(general, welcome, who, ["welcome!", "welcome :wave:", "welcome Diego! :tada:", "bem-vindo!"][i],
                 ws.at(0, 9, 17 + 3 * i))  # fmt: skip
    # the person who leaves (and is deactivated) this week
    mark = ws.uid["mark"]
    ws.post(ws.convs["engineering"], mark,
            f"last day today :wave: the billing cron notes are in the wiki, <@{ws.uid['dan']}> has the context",
            ws.at(0, 15, 30, 0))  # fmt: skip
    ws.post(ws.convs["general"], mark, "it's been a blast, thanks everyone :wave:", ws.at(0, 16, 2, 0))
