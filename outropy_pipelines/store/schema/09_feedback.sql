-- Readers' feedback on briefing lines (store/feedback.py): one event per (reader, day, position,
-- value), with the line's kind, conversation and people as they were when it was marked; a Slack
-- reaction removed later retracts its event (retracted_at), and adding it again restores it.
CREATE TABLE IF NOT EXISTS feedback_events (
    reader_id VARCHAR, day DATE, position INTEGER, value VARCHAR, source VARCHAR,
    item_id VARCHAR, kind VARCHAR, channel_id VARCHAR, people VARCHAR[],
    recorded_at TIMESTAMP, retracted_at TIMESTAMP);

-- Which Slack message (a reply in the briefing DM's thread) carries which line of which briefing.
CREATE TABLE IF NOT EXISTS feedback_slack_lines (
    day DATE, user_id VARCHAR, position INTEGER, channel_id VARCHAR, thread_ts VARCHAR, ts VARCHAR,
    posted_at TIMESTAMP);
