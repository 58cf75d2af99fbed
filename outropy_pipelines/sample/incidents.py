"""The incidents planted in the sample."""

from __future__ import annotations

from outropy_pipelines.sample.workspace import SampleWorkspace


def plant_incidents(ws: SampleWorkspace) -> None:
    """One real SEV2 with alerts, mitigation and a next-day resolution, plus three smaller ones."""
    inc = ws.convs["incidents"]
    deploys = ws.convs["deploys"]
    d = 1  # Tuesday
    ws.bot_post(
        deploys,
        "deploybot",
        "Deployed `ledger-svc` v2026.11.03-2 to production",
        [
            {
                "fallback": "ledger-svc v2026.11.03-2 deployed to production",
                "title": "ledger-svc v2026.11.03-2 → production",
                "text": f"Deployed by <@{ws.uid['dan']}> · commit 9c1e4fa",
                "color": "good",
                "footer": "deploybot",
            }
        ],
        ws.at(d, 13, 52, 4),
    )
    firing = "[FIRING:1] CheckoutApi5xxRate checkout-api production"
    ws.bot_post(
        inc,
        "alertbot",
        "",
        [
            {
                "fallback": firing,
                "title": firing,
                "text": "5xx rate 8.2% over 5m (threshold 5%)",
                "color": "danger",
            }
        ],
        ws.at(d, 13, 56, 10),
    )
    root = ws.post(
        inc,
        "erin",
        "SEV2: checkout is returning 500s for ~8% of requests since 13:55 UTC. I'm IC. <!here> please keep "
        "this channel for incident traffic",
        ws.at(d, 13, 58, 2),
    )
    incident = ws.plant_item("incident", inc, root, "SEV2: checkout returning 500s (~8% of requests)", [])
    ws.reply(inc, root, "nils", "looking at checkout-api logs — lots of `connection refused` to ledger-svc",
             ws.at(d, 13, 59, 30))  # fmt: skip
    ws.reply(inc, root, "dan", "ledger-svc deploy went out at 13:52 (v2026.11.03-2), suspicious timing",
             ws.at(d, 14, 1, 5))  # fmt: skip
    ask = ws.reply(inc, root, "erin", f"<@{ws.uid['dan']}> can you roll back ledger-svc to the previous release?",
                   ws.at(d, 14, 2, 0))  # fmt: skip
    rollback = ws.plant_item(
        "action_item", inc, ask, "Roll back ledger-svc to the previous release", [ws.uid["dan"]]
    )
    ws.bot_post(
        deploys,
        "deploybot",
        "",
        [
            {
                "fallback": "Rollback started: ledger-svc → v2026.11.03-1",
                "title": "Rollback: ledger-svc v2026.11.03-1 → production",
                "text": f"Started by <@{ws.uid['dan']}>",
                "color": "warning",
                "footer": "deploybot",
            }
        ],
        ws.at(d, 14, 4, 12),
    )
    ws.reply(
        inc,
        root,
        "carol",
        "support is getting tickets about failed payments :grimacing:",
        ws.at(d, 14, 7, 0),
    )
    status_ask = ws.reply(
        inc, root, "erin",
        f"<@{ws.uid['rosa']}> can you post a status page update saying checkout errors are being mitigated?",
        ws.at(d, 14, 8, 0),
    )  # fmt: skip
    status_item = ws.plant_item(
        "action_item",
        inc,
        status_ask,
        "Post a status page update about checkout errors",
        [ws.uid["rosa"]],
    )
    ws.close_item(
        rollback,
        inc,
        root,
        "dan",
        "rollback done ✅ ledger-svc is on v2026.11.03-1",
        ws.at(d, 14, 9, 40),
    )
    ws.close_item(
        status_item, inc, root, "rosa",
        "status page updated: <https://status.example.com/incidents/8812|Elevated checkout errors>",
        ws.at(d, 14, 12, 15),
    )  # fmt: skip
    ws.reply(inc, root, "nils", "error rate dropping, 1.2% now", ws.at(d, 14, 15, 3))
    resolved = "[RESOLVED] CheckoutApi5xxRate checkout-api production"
    ws.bot_post(
        inc,
        "alertbot",
        "",
        [{"fallback": resolved, "title": resolved, "text": "5xx rate 0.1% over 5m", "color": "good"}],
        ws.at(d, 14, 21, 40),
    )
    ws.reply(
        inc, root, "erin",
        "Mitigated: error rate back to baseline after rolling back ledger-svc. Keeping the incident open while "
        "we find the root cause.",
        ws.at(d, 14, 30, 0), broadcast=True,
    )  # fmt: skip
    ws.close_item(
        incident, inc, root, "erin",
        "Resolved ✅ root cause: the connection pool limit was lowered in the ledger-svc config in "
        "v2026.11.03-2. Fix merged in <https://github.com/outropy/ledger/pull/488|ledger#488>.",
        ws.at(d + 1, 10, 15, 0),
    )  # fmt: skip
    pm_ask = ws.reply(
        inc,
        root,
        "olivia",
        f"<@{ws.uid['erin']}> can you write the postmortem by Thursday?",
        ws.at(d + 1, 10, 17, 30),
    )
    postmortem = ws.plant_item("action_item", inc, pm_ask, "Write the checkout 500s postmortem by Thursday",
                               [ws.uid["erin"]])  # fmt: skip
    ws.close_item(
        postmortem, inc, root, "erin",
        "postmortem is up: <https://notion.example.com/eng/postmortems/checkout-500s|Checkout 500s postmortem>",
        ws.at(d + 2, 15, 40, 0),
    )  # fmt: skip

    # smaller incidents
    smaller = [
        (3, "incidents", "kemi", "SEV3: search latency p99 is at ~4s, Borealis ingest is lagging behind",
         "Search p99 latency ~4s, Borealis ingest lagging", "farid",
         "ingest consumer was stuck on a poison message, skipped it and it's catching up",
         "latency back to normal — resolved :white_check_mark:", "[FIRING:1] SearchLatencyP99 search-api"),
        (4, "incidents", "nils", "Incident: webhook deliveries to merchants are delayed ~20 min, opening a SEV3",
         "Webhook deliveries delayed ~20 min", "umar", "the webhooks queue has 40k messages backed up, scaling workers",
         "queue drained, deliveries are on time again. closing the incident", None),
        (0, "engineering", "jonas",
         "<!here> we have an outage: SSO logins are failing for Okta customers, declaring SEV2 — follow in "
         f"<#{inc.id}|incidents>",
         "SSO logins failing for Okta customers", "quentin", "the SAML signing cert rotated early, re-uploading it",
         "SSO is back, logins work for all Okta tenants. resolved", None),
    ]  # fmt: skip
    for day, key, who, text, title, helper, middle, closing, alert in smaller:
        conv = ws.convs[key]
        t = ws.at(day, 11 + day, 20)
        if alert:
            ws.bot_post(
                conv,
                "alertbot",
                "",
                [{"fallback": alert, "title": alert, "text": "p99 4.1s", "color": "danger"}],
                t - 90,
            )
        root = ws.post(conv, who, text, t)
        item = ws.plant_item("incident", conv, root, title, [])
        ws.reply(conv, root, helper, middle, t + 600)
        ws.close_item(item, conv, root, who, closing, t + 2400)
