-- Conversations with activity on a day (Slack threads and reconstructed ones) and their messages.
-- thread_id is stable across days: channel_id:root_ts.
CREATE TABLE IF NOT EXISTS threads (
    day DATE, thread_id VARCHAR, channel_id VARCHAR, root_ts VARCHAR, kind VARCHAR,
    participants VARCHAR[], first_ts VARCHAR, last_ts VARCHAR, message_count INTEGER,
    new_message_count INTEGER);

CREATE TABLE IF NOT EXISTS thread_messages (
    day DATE, thread_id VARCHAR, channel_id VARCHAR, ts VARCHAR, user_id VARCHAR,
    user_name VARCHAR, clean_text VARCHAR, is_new BOOLEAN, mentions VARCHAR[], is_bot BOOLEAN);
