"""The words of everyday chatter: services, repos and links, top-level messages and replies by flavour
of conversation, and shared files. The scaled workspaces draw their texts from the same pools."""

from __future__ import annotations

SERVICES = [
    "checkout-api", "ledger-svc", "search-indexer", "auth-gateway", "billing-web", "notifications",
    "payments-worker", "borealis-ingest", "webhooks", "atlas-web",
]  # fmt: skip
REPOS = ["atlas-web", "atlas-api", "ledger", "borealis", "gateway", "infra", "webhooks", "billing"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
LINKS = [
    ("https://docs.example.com/atlas/standup", "Atlas standup notes"),
    ("https://grafana.example.com/d/checkout", "checkout dashboard"),
    ("https://notion.example.com/eng/runbooks", "runbooks"),
    ("https://example.com/blog/postgres-locks", "this post on Postgres locks"),
    ("https://status.example.com", "status page"),
    ("https://docs.example.com/borealis/relevance", "relevance notes"),
    ("https://figma.example.com/file/cart-drawer", "cart drawer in Figma"),
    ("https://example.com/talks/queues", "a talk on queueing theory"),
]  # fmt: skip
EMOJI = [":tada:", ":rocket:", ":eyes:", ":sweat_smile:", ":coffee:", ":fire:", ":raised_hands:", ":+1:"]

TOP_LEVEL: dict[str, list[str]] = {
    "general": [
        "morning all", "good morning :wave:", "morning!", "happy {weekday} everyone :sunny:",
        "gm :coffee:", "anyone up for lunch at the ramen place?", "the coffee machine on 3 is fixed :tada:",
        "the snack order has the good crisps this time", "who's in the office today?",
        "lovely sunset from the roof today {emoji}", "does anyone have a spare USB-C to HDMI adapter?",
        "congrats <@{m}> on the promotion! :tada:", "welcome back <@{m}>! how was the trip?",
        "I'm out this afternoon, ping me on my phone if it's urgent", "wfh today, the trains are on strike",
        "great read if you have 10 min: <{link}|{label}>", "thanks everyone for the birthday wishes :pray:",
        "the new standing desks arrived {emoji}", "photos from the team dinner are in the shared album",
        "filled in the engagement survey, took 5 min", "there's cake in the kitchen :cake:",
    ],
    "engineering": [
        "looking at the flame graph for {svc} now", "p99 on {svc} looks flat after the last deploy",
        "pushed a small fix for the retry loop in {svc}", "left a few comments on {pr}",
        "TIL Postgres `VACUUM FULL` takes an exclusive lock :grimacing:",
        "has anyone touched the {svc} helm chart recently?", "rebasing {pr} on main now",
        "the connection pool on {svc} maxes out around 200 rps, interesting",
        "tests pass locally for me, re-running CI", "that's a known flake in the {svc} suite",
        "nice writeup <@{m}>, very clear", "anyone have a good pattern for idempotency keys in {svc}?",
        "{pr} is ready for eyes when someone has a minute",
        "profiling {svc}: most of the time goes into JSON serialization", "bumped the Go version in {svc}",
        "the new linter config is in, expect some noise in PRs", "for context see the thread in {ch}",
        "cleaned up the old feature flags in {svc} :broom:", "heads down on {proj} today, slow to reply",
        "interesting bug: {svc} double-counts retries when the client times out",
        "the staging db was restored from last night's snapshot", "{svc} memory looks stable since the fix",
        "pairing with <@{m}> on the {svc} timeouts this afternoon", "reading through {pr}, nice cleanup",
        "is the {svc} dashboard missing data for anyone else or just me?",
        "build times are down to 6 minutes after the cache change {emoji}",
    ],
    "incidents": [
        "post-incident review from last week is published: <{link}|{label}>",
        "the incident drill on {weekday} went smoothly, notes coming",
        "the pager rotation export is updated in the wiki", "quiet night on call :crossed_fingers:",
        "the {svc} alert thresholds were tuned, should be less noisy",
    ],
    "atlas": [
        "Atlas standup notes are in <{link}|{label}>", "working on the address form validation today",
        "demo of the new checkout flow went well {emoji}", "mockups for the cart drawer are up in {ch}",
        "the payment-method picker is behind the `atlas_v2` flag in staging",
        "QA found a rounding issue in the tax display, looking", "merged the address autocomplete",
        "staging is a bit slow today", "the order summary component is ready for review: {pr}",
        "customer interviews for Atlas are booked for next week", "Atlas e2e suite is at 212 tests now",
        "playing with the Apple Pay button placement", "the promo code field now validates as you type",
        "<@{m}> nice work on the cart animations", "copy for the error states is in the doc",
    ],
    "borealis": [
        "reindex job on shard {n} finished", "looking at relevance for multi-word queries",
        "the new analyzer handles accents much better", "backfill throughput is ~{n}k docs/s",
        "Borealis sync notes: <{link}|{label}>", "offline eval: nDCG@10 up a couple of points",
        "the ingest lag graph looks healthy today", "trying a different shard count in staging",
        "query logs sample for the eval set is exported", "<@{m}> the synonym list you shared is great",
        "we're seeing fewer zero-result searches in the canary", "tuning the BM25 params a bit",
    ],
    "random": [
        "lol", "this is the best thing I've seen all week <{link}|{label}>",
        "anyone watching the match tonight?", "my cat just walked across my keyboard mid-standup",
        "friday playlist: <https://open.example.com/playlist/42|playlist>", ":taco: tuesday?",
        "what's everyone reading these days?", "first snow here {emoji}", "who wants to do a 5k in spring?",
        "sourdough attempt #4 :bread:", "the office plant is thriving", "that meme in #general lol",
        "new coffee place opened next door, highly recommend", ":dog: photo of the day",
    ],
    "design": [
        "new iteration of the checkout summary", "feedback welcome on the empty states",
        "the contrast on the secondary button is a bit low", "I like v2 better tbh",
        "updated the icon set in the library", "crit notes from today are in <{link}|{label}>",
        "exploring a denser layout for search results", "<@{m}> loved the motion study",
        "the spacing tokens are live in the kit", "user test recordings are uploaded",
    ],
    "leadership": [
        "board deck draft is in the shared drive", "Q4 hiring numbers look on track",
        "offsite venue shortlist is in the doc", "revenue dashboard is updated for October",
        "good call today, thanks all", "headcount plan v3 is uploaded",
    ],
    "dm": [
        "got a sec?", "saw your comments on the doc, thanks", "coffee later?", "lol yes",
        "running 5 min late to our 1:1", "that meeting could have been an email :sweat_smile:",
        "nice job in the demo", "ha, classic", "did you see the thread in {ch}?", "ok, talk after lunch",
    ],
}  # fmt: skip

COMMON_REPLIES = [
    "thanks!", "lol", ":+1:", "nice", "ty!", "makes sense", "sounds good", "good catch", "haha", "+1",
    "same here", "nice one :tada:", "oh interesting", "hmm, let me check", "yeah I saw that too",
    "cool", "ok", "thank you :pray:", "yep", ":eyes:", ":100:", "fair point", "ah got it", "works for me now",
    "interesting, didn't know that", "can confirm", "nice!", "oh no :sweat_smile:", "love it",
]  # fmt: skip
REPLIES: dict[str, list[str]] = {
    "engineering": [
        "I think it's the connection pool again", "could be the retry logic firing twice",
        "the dashboard shows it started around 10:40", "it's flaky on main too",
        "I saw the same stack trace yesterday", "we hit this last quarter, there's a note in the wiki",
        "try clearing the build cache", "the p95 looks fine now", "the planner picks the new index now",
        "I'd add a metric there before changing anything", "looks like a timeout in {svc}",
        "we should probably add a test for that", "agree with <@{m}> here",
    ],
    "atlas": [
        "looks great on mobile too", "the tax line still wraps on small screens",
        "QA passed on staging", "works in Safari now", "nice, that was a tricky one",
    ],
    "borealis": [
        "recall looks better on the long-tail queries", "shard {n} is the slow one again",
        "the eval set might be biased towards short queries", "nice, that's a big jump",
    ],
    "design": ["the second one reads better", "love the spacing", "maybe a bit more contrast?"],
    "general": [":wave:", "welcome!", "congrats!! :tada:", "enjoy!", "yum"],
    "random": ["lol", "hahaha", ":joy:", "so good", "same", "this is amazing"],
    "incidents": ["thanks for the update", ":+1:", "noted"],
    "leadership": ["agree, good progress", "thanks, will read tonight", "noted"],
    "dm": ["sure", "haha yes", "ok!", "sounds good", "np"],
}  # fmt: skip

FILE_SHARES = [
    ("cart-drawer-v3.png", "image/png", "png", "new iteration of the cart drawer"),
    ("search-results-dense.png", "image/png", "png", "denser search results, thoughts?"),
    ("checkout-flow.pdf", "application/pdf", "pdf", "full checkout flow for the crit"),
    ("empty-states.png", "image/png", "png", "empty states, take 2"),
    ("icon-set.fig", "application/octet-stream", "binary", "updated icon set"),
    ("latency-p99.png", "image/png", "png", "p99 over the last 24h"),
    ("q4-plan.pdf", "application/pdf", "pdf", ""),
]

# name, repo, number
PULL_REQUESTS = [
    ("ledger migration", "ledger", 482), ("search analyzer", "borealis", 131), ("cart drawer", "atlas-web", 907),
    ("rate limiter", "gateway", 256), ("webhook retry", "webhooks", 77), ("address autocomplete", "atlas-web", 915),
    ("tax rounding fix", "atlas-api", 343), ("IAM policy", "infra", 1204),
]  # fmt: skip
