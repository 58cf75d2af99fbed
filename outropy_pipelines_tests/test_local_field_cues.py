"""The local classifier on everyday work talk (`item_rules.field_cues`): failure reports, bug-tracker
feed posts, questions to the channel, introductions and broadcasts, progress replies and settled
plans. Sentences are invented for these tests."""

from __future__ import annotations

from outropy_pipelines.domain.noise import ALERT_RE
from outropy_pipelines_tests.test_local_provider import classify, only, thread


def kinds(items: list) -> list[str]:
    return sorted(i.kind for i in items)


# --- failure reports ---------------------------------------------------------------------------


def test_a_failure_report_is_a_blocker_quoting_the_sentence_with_its_cue():
    items = classify(
        thread(
            (
                "U1ALICE",
                "Hi all. The installer fails with a checksum mismatch on my laptop. Any ideas how to get past it?",
            )
        )
    )
    b = only(items, "blocker")
    assert b.title == "Alice Chen: The installer fails with a checksum mismatch on my laptop"
    assert b.detail == "cue: failure_report"
    assert b.status == "open"
    q = only(items, "question")  # asked of the channel: nobody named, open for its readers
    assert q.owners == [] and q.title.endswith("how to get past it?")


def test_first_person_errors_hangs_and_stuck_are_blockers():
    for text in (
        "I'm getting a permission error when I run the migration script",
        "the exporter hangs after the second batch",
        "I am stuck on the parser rewrite",
        "the sync button does nothing on the staging site",
    ):
        assert "blocker" in kinds(classify(thread(("U2BOB", text)))), text


def test_answers_and_hypotheticals_are_not_failure_reports():
    items = classify(
        thread(
            ("U1ALICE", "the nightly export fails with a timeout"),
            ("U2BOB", "the export fails with a timeout when the disk is full, check the volume"),
        )
    )
    assert [i.source_ids for i in items if i.kind == "blocker"] == [["m1"]]
    assert classify(thread(("U3CAROL", "if the build fails with a lock error, delete the cache"))) == []
    assert "blocker" not in kinds(classify(thread(("U3CAROL", "sorry, I couldn't make it to the demo"))))


def test_a_service_returning_server_errors_is_an_incident():
    items = classify(thread(("U4DAN", "the wiki returns an internal server error for every page")))
    assert only(items, "incident").detail == "cue: service_down"


# --- bug-tracker feed posts --------------------------------------------------------------------


BUG_HEAD = (
    "*[Bug 4242] Exporter writes the wrong column order*\n<https://bugs.example.org/show_bug.cgi?id=4242>\n\n"
)


def test_bug_tracker_posts_by_their_fields():
    fixed = (
        BUG_HEAD
        + "Pat Lee changed:\n\n What |Removed |Added\n Status|NEW |RESOLVED\n Resolution|--- |FIXED\n"
    )
    st = only(classify(thread(("U4DAN", fixed))), "status_update")
    assert st.title == "Bug 4242: Exporter writes the wrong column order (FIXED)"
    assert st.detail == "cue: bug_closed"
    refused = fixed.replace("FIXED", "WONTFIX")
    assert only(classify(thread(("U4DAN", refused))), "decision").detail == "cue: bug_refused"
    patch = BUG_HEAD + "--- Comment #2 from Pat Lee ---\nCreated attachment 900\nproposed change"
    assert only(classify(thread(("U4DAN", patch))), "status_update").detail == "cue: bug_patch"
    cc_only = BUG_HEAD + "Pat Lee changed:\n\n What |Removed |Added\n CC| |pat@example.org\n"
    assert classify(thread(("U4DAN", cc_only))) == []


def test_a_new_bug_report_is_a_blocker_and_a_wish_is_an_ownerless_task():
    new = (
        "<https://bugs.example.org/show_bug.cgi?id=77|[Bug 77] Exporter drops the last row>\n"
        "Status\n NEW\n Creation date\n 2025-01-02T10:00:00Z\n Last changed date\n 2025-01-02T10:00:00Z"
    )
    assert only(classify(thread(("U4DAN", new))), "blocker").detail == "cue: bug_new"
    wish = new.replace("Exporter drops the last row", "Allow a custom delimiter in the exporter")
    a = only(classify(thread(("U4DAN", wish))), "action_item")
    assert a.owners == [] and a.detail == "cue: bug_wish"
    later = new.replace(
        "Last changed date\n 2025-01-02T10:00:00Z", "Last changed date\n 2025-02-09T08:00:00Z"
    )
    assert classify(thread(("U4DAN", later))) == []  # a later post of the same bug says nothing new


def test_bug_tracker_bot_posts_reach_the_classifier():
    assert ALERT_RE.search("*[Bug 4242] Exporter writes the wrong column order*")
    assert not ALERT_RE.search("Deploy bot: build 812 promoted to staging")


# --- announcements -----------------------------------------------------------------------------


def test_an_introduction_or_a_welcome_is_an_announcement_never_a_task():
    intro = (
        "Hello everyone! My name is Priya and I will be working on the search team this summer. "
        "I'll share my notes here."
    )
    items = classify(thread(("U3CAROL", intro)))
    assert kinds(items) == ["announcement"]
    assert items[0].detail == "cue: introduction"
    assert (
        items[0].title == "Carol Evans: My name is Priya and I will be working on the search team this summer"
    )
    welcome = classify(thread(("U1ALICE", "Welcome to the channel, glad to have you here")))
    assert kinds(welcome) == ["announcement"]


def test_a_call_starting_now_with_its_link_is_an_announcement():
    items = classify(thread(("U2BOB", "Design review starting now! https://meet.example.com/abc-defg")))
    a = only(items, "announcement")
    assert a.detail == "cue: broadcast" and "starting now" in a.title
    # the same words in a reply are an answer, not a broadcast
    reply = classify(
        thread(("U1ALICE", "where is the review?"), ("U2BOB", "starting now https://meet.example.com/x"))
    )
    assert "announcement" not in kinds(reply)


# --- status updates ----------------------------------------------------------------------------


def test_progress_replies_are_status_updates():
    for text in ("I opened a pull request for the retry logic", "that worked, the importer runs fine now"):
        items = classify(thread(("U1ALICE", "the importer crashes on empty files"), ("U1ALICE", text)))
        st = only(items, "status_update")
        assert st.detail == "cue: progress" and st.source_ids == ["m2"], text
    items = classify(thread(("U2BOB", "I tried to open a pull request but it was rejected")))
    assert "status_update" not in kinds(items)


def test_a_weekly_activity_summary_is_a_status_update_unless_empty():
    st = only(
        classify(thread(("U4DAN", "Summary of the updates in the last 7 days: 40 strings reviewed"))),
        "status_update",
    )
    assert st.detail == "cue: progress"
    assert classify(thread(("U4DAN", "Summary of the updates in the last 7 days: no activity"))) == []


# --- decisions ---------------------------------------------------------------------------------


def test_settled_plans_and_approvals_are_decisions():
    plan = only(classify(thread(("U1ALICE", "We will hold the retro on Thursdays from now on."))), "decision")
    assert plan.detail == "cue: settled_plan"
    assert plan.title == "Alice Chen: We will hold the retro on Thursdays from now on"
    refusal = classify(thread(("U2BOB", "we don't plan to support the legacy format")))
    assert only(refusal, "decision").detail == "cue: settled_plan"
    approval = classify(
        thread(
            ("U3CAROL", "I set the timeout to 30s and the retries to 3, ok?"),
            ("U1ALICE", "yes, those settings are fine for now"),
        )
    )
    d = only(approval, "decision")
    assert d.detail == "cue: approval" and d.source_ids == ["m2"]
    assert classify(thread(("U1ALICE", "yes, those settings are fine for now"))) == []  # nothing to approve


# --- action items that are not tasks -------------------------------------------------------------


def test_attendance_and_vague_intentions_are_not_commitments():
    for text in (
        "I will come to the demo on Friday",
        "I'll join the call later",
        "I'll probably refactor it someday",
    ):
        assert "action_item" not in kinds(classify(thread(("U2BOB", text)))), text
    a = only(classify(thread(("U2BOB", "I'll write the migration guide tomorrow"))), "action_item")
    assert a.owners == ["U2BOB"]


def test_advice_is_not_a_task_and_thanks_for_advice_is_not_a_commitment():
    items = classify(
        thread(
            ("U1ALICE", "the linter keeps flagging generated files"),
            ("U2BOB", "<@U1ALICE> maybe try adding them to the ignore list"),
            ("U1ALICE", "thanks, I'll check it"),
        )
    )
    assert "action_item" not in kinds(items)


def test_more_failure_shapes_and_a_new_bug_with_an_attachment():
    for text in (
        "A colleague is struggling to get the plugin to load, even though it is installed.",
        "The tool doesn't allow me to push to the shared branch.",
        "I edited the template but my changes are not reflected in the output.",
        "Since the upgrade, if I run the report I got a stream of warnings and an error message",
    ):
        assert "blocker" in kinds(classify(thread(("U3CAROL", text)))), text
    new = "*[Bug 81] New: Exporter crashes on empty input*\n Status: UNCONFIRMED\n\nCreated attachment 12\nsample file"
    assert only(classify(thread(("U4DAN", new))), "blocker").detail == "cue: bug_new"


def test_short_outcome_replies_are_status_updates():
    for reply in (
        "Thanks, should be fixed now.",
        "Submitted to the store this morning",
        "down to 3 failing tests",
    ):
        items = classify(thread(("U1ALICE", "the signup page is broken"), ("U2BOB", reply)))
        assert [i.source_ids for i in items if i.kind == "status_update"] == [["m2"]], reply
    assert "status_update" not in kinds(classify(thread(("U2BOB", "could you check it once it is merged"))))


def test_a_bots_activity_summary_reaches_the_classifier():
    assert ALERT_RE.search("2026-03-06 19:00:00 UTC: Summary of the updates in the last 7 days")


def test_an_approval_needs_something_proposed_and_a_subject():
    proposal = ("U3CAROL", "shall we cut the release on Monday?")
    assert "decision" not in kinds(classify(thread(proposal, ("U1ALICE", "the p95 looks fine now"))))
    assert "decision" not in kinds(
        classify(thread(("U3CAROL", "the dashboards are up"), ("U1ALICE", "that's fine")))
    )
    assert "decision" in kinds(classify(thread(proposal, ("U1ALICE", "Monday is fine"))))


def test_happening_now_posts_and_labelled_links_are_announcements():
    for text in (
        "Workshop has started!",
        "We're back online now!",
        "Recording: https://video.example.com/v/42",
    ):
        a = only(classify(thread(("U2BOB", text))), "announcement")
        assert a.detail == "cue: broadcast", text
    intro = "Hi! I am a second-year data engineering student from Lisbon and I love parsers."
    assert only(classify(thread(("U3CAROL", intro))), "announcement").detail == "cue: introduction"


def test_everyday_requests_and_commitments_are_action_items():
    ask = only(
        classify(thread(("U1ALICE", "It would be great if someone could update the onboarding doc."))),
        "action_item",
    )
    assert ask.owners == [] and ask.detail == "cue: request"
    assert ask.title == "Alice Chen: It would be great if someone could update the onboarding doc"
    vol = classify(thread(("U1ALICE", "We are looking for volunteers to run the demo booth.")))
    assert only(vol, "action_item").owners == []
    mine = classify(
        thread(("U2BOB", "the import is slow"), ("U3CAROL", "Ok, will file a ticket with the vendor."))
    )
    c = only(mine, "action_item")
    assert c.owners == ["U3CAROL"] and c.detail == "cue: commitment" and c.source_ids == ["m2"]


def test_more_decision_shapes():
    proposal = ("U3CAROL", "should we keep the old endpoint alive for a month?")
    d = only(
        classify(thread(proposal, ("U1ALICE", "Seems fine to me. Let's tell the partners too."))), "decision"
    )
    assert d.detail == "cue: approval" and d.title == "Alice Chen: Seems fine to me"
    sprint = classify(thread(("U2BOB", "At the offsite the team agreed on a two-week release train.")))
    assert only(sprint, "decision").detail.startswith("cue: ")
    refuse = (
        BUG_HEAD + "--- Comment #5 from Pat Lee ---\nI will not change the default, it would break scripts."
    )
    r = only(classify(thread(("U4DAN", refuse))), "decision")
    assert r.detail == "cue: bug_refused" and r.title.startswith(
        "Bug 4242: Exporter writes the wrong column order:"
    )


def test_a_question_beside_a_request_and_a_maintainers_question_in_the_tracker():
    items = classify(
        thread(("U1ALICE", "Bob, please send me the logs. Which version of the agent are you running?"))
    )
    assert kinds(items) == ["action_item", "question"]
    ask = BUG_HEAD + "--- Comment #3 from Pat Lee ---\nDoes this still happen with the latest build?"
    q = only(classify(thread(("U4DAN", ask))), "question")
    assert q.detail == "cue: bug_question"
    assert (
        q.title
        == "Bug 4242: Exporter writes the wrong column order: Does this still happen with the latest build?"
    )


def test_a_question_to_everyone_is_not_an_announcement():
    items = classify(thread(("U1ALICE", "<!here> does anyone know how to rotate the signing key?")))
    assert kinds(items) == ["question"]


# --- real phrasing: the shapes of the examples, in invented words -------------------------


def test_a_question_without_a_question_mark_beside_a_failure():
    items = classify(
        thread(
            (
                "U1ALICE",
                "Hi, i got this error when syncing the ledger. how can i fix it. Im moving it to the archive",
            )
        )
    )
    assert only(items, "blocker").title == "Alice Chen: i got this error when syncing the ledger"
    q = only(items, "question")
    assert q.title == "Alice Chen: how can i fix it" and q.owners == [] and q.status == "open"
    # the same words with nothing asked are no question
    assert "question" not in kinds(classify(thread(("U2BOB", "I fixed it. It was the archive path"))))


def test_a_title_keeps_a_sentence_that_runs_on_after_an_ellipsis():
    b = only(
        classify(
            thread(("U2BOB", "I have an import job that has been running for 3 days... but it does nothing"))
        ),
        "blocker",
    )
    assert b.title == "Bob Diaz: I have an import job that has been running for 3 days... but it does nothing"


def test_an_answer_that_rules_something_out_is_a_decision_and_answers_the_question():
    items = classify(
        thread(
            ("U1ALICE", "Does the exporter run on the managed container service?"),
            (
                "U2BOB",
                "The managed container service is not officially supported and we don't have any plan to support it",
            ),
        )
    )
    d = only(items, "decision")
    assert d.title.startswith("Bob Diaz: The managed container service is not officially supported")
    assert d.detail == "cue: settled_plan" and d.source_ids == ["m2"]
    assert only(items, "question").status == "resolved"


def test_commitments_without_a_subject_or_as_plans_are_owned_by_the_speaker():
    for text in (
        "Good point. Will revert that change before posting the patch.",
        "Going to start drafting the migration chapter.",
        "I plan to ask the release manager about it tomorrow.",
        "Sorry about that, we'll look into a fix for the export helper.",
    ):
        a = only(classify(thread(("U3CAROL", text))), "action_item")
        assert a.owners == ["U3CAROL"] and a.title.startswith("Carol Evans: "), text
    assert classify(thread(("U3CAROL", "Will be there at noon."))) == []  # attendance is no task


def test_a_please_in_a_reply_to_several_people_is_asked_of_whom_it_answers():
    items = classify(
        thread(
            ("U1ALICE", "I'll update the contributors page this week"),
            ("U3CAROL", "nice, the team list needs it too"),
            ("U4DAN", "I can take the team list then"),
            ("U2BOB", "as part of your page updates, please also extend the languages table"),
        )
    )
    ask = [i for i in items if i.kind == "action_item" and "m4" in i.source_ids]
    assert [(a.owners, a.source_ids) for a in ask] == [(["U4DAN"], ["m3", "m4"])]
    assert (
        ask[0].title
        == "Bob Diaz asked Dan Fox: as part of your page updates, please also extend the languages table"
    )
    # "please don't worry" asks nothing of anyone
    assert classify(thread(("U2BOB", "please don't worry about the slides"))) == []


def test_wishes_and_feature_requests_are_asks_to_nobody_in_particular():
    for text in (
        "My wish is to have a dry-run flag for the importer",
        "Feature request: a dark theme for the docs site",
    ):
        a = only(classify(thread(("U4DAN", text))), "action_item")
        assert a.owners == [] and a.detail == "cue: request", text


def test_a_report_beside_an_ask_is_a_status_update_too():
    items = classify(
        thread(
            (
                "U1ALICE",
                "I've updated the team permissions. Could someone from the docs group review the list?",
            )
        )
    )
    assert kinds(items) == ["action_item", "status_update"]
    assert only(items, "status_update").title == "Alice Chen: I've updated the team permissions"


def test_a_reply_reporting_its_own_failure_is_a_blocker_and_an_answer_is_not():
    items = classify(
        thread(
            ("U1ALICE", "Has anyone built the docs on the new laptop image?"),
            ("U2BOB", "I'm having one issue: make fails with a missing header on my machine"),
            ("U3CAROL", "the build fails with a missing header when the SDK is old, upgrade it"),
        )
    )
    assert [i.source_ids for i in items if i.kind == "blocker"] == [["m2"]]


def test_a_labelled_link_is_news_but_a_pointer_in_a_reply_is_not():
    a = only(
        classify(
            thread(("U1ALICE", "hi all"), ("U2BOB", "Slides from session 2: https://docs.example.com/s2"))
        ),
        "announcement",
    )
    assert a.title == "Bob Diaz: Slides from session 2: (link)" and a.detail == "cue: broadcast"
    assert "announcement" not in kinds(
        classify(thread(("U1ALICE", "hi all"), ("U2BOB", "I just wrote this: https://docs.example.com/x")))
    )


def test_a_welcome_is_news_not_a_task_for_anyone():
    items = classify(thread(("U1ALICE", "<@U3CAROL> please welcome <@U2BOB> who joins the data team today!")))
    assert kinds(items) == ["announcement"]
    assert (
        only(items, "announcement").title
        == "Alice Chen: please welcome Bob Diaz who joins the data team today!"
    )


def test_support_channel_phrasings_of_failures_questions_decisions_and_releases():
    cases = {
        "I'm trying to load the orders table but the connection test keeps timing out": "blocker",
        "Getting `Permission denied` when the exporter writes to the spool folder": "blocker",
        "Our nightly loads are failing since the upgrade, every run errors out": "blocker",
        "Anyone know how to set a custom prefix for the output files": "question",
        "This is a known issue, it will be fixed in 4.2": "decision",
        "We'll add a fix for this in the next release": "decision",
        "Version 4.1 is out with incremental loads :tada:": "announcement",
    }
    for text, kind in cases.items():
        assert kinds(classify(thread(("U3CAROL", text)))) == [kind], text
    # the same words about someone else's hypothetical, or a fix already done, are no blocker
    assert "blocker" not in kinds(classify(thread(("U3CAROL", "if the load times out, raise the limit"))))


def test_who_is_around_is_talk_and_works_for_me_now_is_no_decision():
    for text in ("who's in the office today?", "who wants to join a climbing session on Friday?"):
        assert classify(thread(("U1ALICE", text))) == [], text
    items = classify(thread(("U1ALICE", "does the export page load for you?"), ("U2BOB", "works for me now")))
    assert "decision" not in kinds(items)
    agreed = classify(
        thread(("U1ALICE", "shall we move the sync to Tuesdays?"), ("U2BOB", "Tuesday works for me"))
    )
    assert "decision" in kinds(agreed)


def test_a_choice_made_in_the_past_tense_is_a_decision():
    for text in (
        "We pinned _id as the only primary key",
        "after the benchmark we went with DuckDB for the cache",
        "The team has standardised on ruff for linting",
    ):
        d = only(classify(thread(("U1ALICE", text))), "decision")
        assert d.detail == "cue: decision_terms" and d.title == f"Alice Chen: {text}"
    # picking up work, or pinning a message, is no decision
    for text in ("we picked up the flaky test ticket this morning", "I pinned the agenda in the channel"):
        assert "decision" not in kinds(classify(thread(("U1ALICE", text)))), text


def test_a_top_level_welcome_of_a_named_newcomer_is_an_announcement():
    items = classify(thread(("U1ALICE", "Welcome Diego Silva who joins the Atlas team today!")))
    assert kinds(items) == ["announcement"]
    assert items[0].detail == "cue: introduction" and items[0].owners == []
    assert items[0].title == "Alice Chen: Welcome Diego Silva who joins the Atlas team today!"
    # the same words answering someone's introduction are a reply, not news
    reply = classify(
        thread(
            ("U3CAROL", "Hi all, I started on the data team today"),
            ("U1ALICE", "Welcome Carol, great to have you"),
        )
    )
    assert reply and all("m2" not in i.source_ids for i in reply if i.kind == "announcement")
