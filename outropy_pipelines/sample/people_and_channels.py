"""Who is in the realistic sample, where they talk, and how much and when."""

from __future__ import annotations

# name, real name, display name, time zone, title
PEOPLE: list[tuple[str, str, str, str, str]] = [
    ("alice", "Alice Moreau", "Alice", "Europe/Paris", "Engineering Manager, Atlas"),
    ("bob", "Bob Okafor", "bob.o", "Europe/London", "Staff Engineer"),
    ("carol", "Carol Nguyen", "Carol", "America/New_York", "Product Manager, Atlas"),
    ("dan", "Dan Kowalski", "dan", "Europe/Warsaw", "Backend Engineer"),
    ("erin", "Erin Walsh", "Erin W", "Europe/Dublin", "Site Reliability Engineer"),
    ("farid", "Farid Haddad", "farid", "Europe/Berlin", "Data Engineer"),
    ("grace", "Grace Liu", "Grace", "America/Los_Angeles", "Product Designer"),
    ("hiro", "Hiro Tanaka", "hiro", "Asia/Tokyo", "Frontend Engineer"),
    ("ines", "Inês Carvalho", "Inês", "Europe/Lisbon", "QA Engineer"),
    ("jonas", "Jonas Berg", "jonas", "Europe/Stockholm", "Platform Engineer"),
    ("kemi", "Kemi Adeyemi", "Kemi", "Europe/London", "Engineering Manager, Borealis"),
    ("leo", "Leo Rossi", "leo", "Europe/Rome", "Backend Engineer"),
    ("maya", "Maya Patel", "Maya", "America/Chicago", "Product Designer"),
    ("nils", "Nils Andersen", "nils", "Europe/Copenhagen", "Site Reliability Engineer"),
    ("olivia", "Olivia Brown", "Olivia", "America/New_York", "VP Engineering"),
    ("priya", "Priya Raman", "priya", "Asia/Kolkata", "Data Scientist"),
    ("quentin", "Quentin Dubois", "quentin", "Europe/Paris", "Security Engineer"),
    ("rosa", "Rosa Martínez", "Rosa", "Europe/Madrid", "Support Lead"),
    ("sam", "Sam Fischer", "sam", "Europe/Berlin", "Frontend Engineer"),
    ("tara", "Tara O'Neill", "Tara", "Europe/Dublin", "Technical Writer"),
    ("umar", "Umar Siddiqui", "umar", "Asia/Dubai", "Backend Engineer"),
    ("vera", "Vera Novak", "Vera", "Europe/Prague", "Product Manager, Borealis"),
    ("wei", "Wei Zhang", "wei", "Asia/Singapore", "Machine Learning Engineer"),
    ("ximena", "Ximena Flores", "Ximena", "America/Mexico_City", "Product Designer"),
    ("yusuf", "Yusuf Demir", "yusuf", "Europe/Istanbul", "DevOps Engineer"),
    ("zoe", "Zoe Clarke", "Zoe", "Australia/Sydney", "Customer Success Manager"),
    ("anna", "Anna Schmidt", "Anna", "Europe/Berlin", "CFO"),
    ("ben", "Ben Carter", "Ben", "America/Denver", "CEO"),
    ("chloe", "Chloe Martin", "Chloe", "Europe/Paris", "People Operations"),
    ("diego", "Diego Silva", "diego", "America/Sao_Paulo", "Backend Engineer"),
]
DELETED_PERSON = ("mark", "Mark Evans", "mark", "Europe/London", "Billing Engineer")

# key, user id, bot id, app id, display name
BOTS: list[tuple[str, str, str, str, str]] = [
    ("deploybot", "U0B1DEPLOY", "B0DEPLOY01", "A0DEPLOY01", "deploybot"),
    ("github", "U0B2GITHUB", "B0GITHUB01", "A0GITHUB01", "GitHub"),
    ("alertbot", "U0B3ALERTS", "B0ALERTS01", "A0ALERTS01", "alertbot"),
]

_ENGINEERS = [
    "alice", "bob", "dan", "erin", "farid", "hiro", "ines", "jonas", "kemi", "leo", "nils", "olivia",
    "priya", "quentin", "sam", "tara", "umar", "wei", "yusuf", "diego",
]  # fmt: skip

# key, id, kind, members, topic, purpose
CONVERSATIONS: list[tuple[str, str, str, list[str], str, str]] = [
    ("general", "C01GENERAL", "public", [p[0] for p in PEOPLE],
     "Company-wide announcements and chatter", "This channel is for workspace-wide communication."),
    ("engineering", "C02ENGINRG", "public", [*_ENGINEERS, "carol", "vera", "grace"],
     "Engineering discussion · on-call: see #incidents", "Everything engineering."),
    ("incidents", "C03INCIDNT", "public",
     ["alice", "bob", "carol", "dan", "erin", "jonas", "kemi", "leo", "nils", "olivia", "quentin", "rosa",
      "umar", "vera", "yusuf", "zoe", "farid", "diego"],
     "Production incidents. Declare with SEV level.", "Incident response and alerts."),
    ("proj-atlas", "C04PATLAS0", "public",
     ["alice", "carol", "dan", "grace", "hiro", "ines", "leo", "sam", "maya", "rosa", "umar", "diego"],
     "Atlas: checkout v2 · beta Nov 16", "Project Atlas, the new checkout."),
    ("proj-borealis", "C05PBOREAL", "public",
     ["kemi", "vera", "farid", "priya", "wei", "jonas", "bob", "ximena", "tara", "nils"],
     "Borealis: search index rebuild", "Project Borealis, search relevance and the new index."),
    ("random", "C06RANDOM0", "public",
     [p[0] for p in PEOPLE if p[0] not in ("anna", "ben")],
     "Non-work banter and water cooler conversation", "A place for non-work-related flimflam."),
    ("design", "C07DESIGN0", "public", ["grace", "maya", "ximena", "hiro", "sam", "carol", "vera"],
     "Design crits Tuesdays 15:00 UTC", "Design reviews, mockups and feedback."),
    ("deploys", "C08DEPLOYS", "public",
     ["bob", "dan", "erin", "jonas", "leo", "nils", "umar", "yusuf", "diego"],
     "Deploy notifications", "Automated deploy notifications."),
    ("leadership", "G01LEADERS", "private", ["ben", "olivia", "anna", "chloe", "alice"],
     "Leadership team", "Confidential: leadership discussions."),
    ("dm-alice-bob", "D01ALIBOB0", "im", ["alice", "bob"], "", ""),
    ("mpdm-alice--bob--carol-1", "G02MPDMABC", "mpim", ["alice", "bob", "carol"], "",
     "Group messaging with: @alice @bob @carol"),
]  # fmt: skip

# which bots are members (and post) where
BOT_MEMBERS = {"deploys": ["deploybot"], "engineering": ["github"], "incidents": ["alertbot"]}

# people who join a channel during the sample week: (person, channel, day index, hour, minute)
JOINS = [
    ("diego", "general", 0, 9, 2),
    ("diego", "engineering", 0, 9, 4),
    ("diego", "proj-atlas", 0, 9, 5),
    ("diego", "random", 0, 9, 7),
    ("erin", "proj-borealis", 2, 8, 41),
    ("wei", "design", 3, 10, 12),
]

# filler "conversation units" per weekday; the weekend gets about a tenth of that
FILLER_UNITS = {
    "general": 14,
    "engineering": 48,
    "incidents": 4,
    "proj-atlas": 34,
    "proj-borealis": 28,
    "random": 20,
    "design": 16,
    "leadership": 5,
    "dm-alice-bob": 8,
    "mpdm-alice--bob--carol-1": 5,
}

FLAVOR = {
    "general": "general",
    "engineering": "engineering",
    "incidents": "incidents",
    "proj-atlas": "atlas",
    "proj-borealis": "borealis",
    "random": "random",
    "design": "design",
    "deploys": "engineering",
    "leadership": "leadership",
    "dm-alice-bob": "dm",
    "mpdm-alice--bob--carol-1": "dm",
}

PROJECT_OF = {"proj-atlas": "Atlas", "proj-borealis": "Borealis"}

# relative message volume per UTC hour on a weekday (Europe-heavy team with US and APAC members)
WEEKDAY_HOURS = [1, 1, 1, 1, 2, 2, 4, 8, 12, 14, 14, 12, 9, 12, 14, 14, 12, 9, 6, 5, 4, 3, 2, 1]
WEEKEND_HOURS = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0]
