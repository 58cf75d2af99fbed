-- Each reader's briefing of a day, rendered, and its ranked lines (sources as JSON).
CREATE TABLE IF NOT EXISTS briefings (
    day DATE, user_id VARCHAR, user_name VARCHAR, markdown VARCHAR, blocks_json VARCHAR,
    html VARCHAR, item_count INTEGER, llm_tokens INTEGER, content_hash VARCHAR,
    created_at TIMESTAMP, plain_text VARCHAR);

-- added after the first release (a no-op on new files)
ALTER TABLE briefings ADD COLUMN IF NOT EXISTS plain_text VARCHAR;

CREATE TABLE IF NOT EXISTS briefing_lines (
    day DATE, user_id VARCHAR, position INTEGER, section VARCHAR, item_id VARCHAR,
    kind VARCHAR, text VARCHAR, reason VARCHAR, score DOUBLE, channel_id VARCHAR,
    sources VARCHAR, permalinks VARCHAR[]);
