-- Every message of a day as received (the JSON kept verbatim), and what could not be read.
CREATE TABLE IF NOT EXISTS raw_messages (
    day DATE, channel_id VARCHAR, ts VARCHAR, thread_ts VARCHAR, user_id VARCHAR,
    subtype VARCHAR, text VARCHAR, target_ts VARCHAR, json VARCHAR);

CREATE TABLE IF NOT EXISTS quarantine (
    day DATE, source VARCHAR, location VARCHAR, reason VARCHAR, raw VARCHAR);
