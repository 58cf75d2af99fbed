-- Typed items per thread and day, the messages each cites, and the threads that could not be classified.
CREATE TABLE IF NOT EXISTS items (
    day DATE, item_id VARCHAR, thread_id VARCHAR, channel_id VARCHAR, kind VARCHAR,
    title VARCHAR, detail VARCHAR, owners VARCHAR[], mentions VARCHAR[], due VARCHAR,
    entities VARCHAR[], confidence DOUBLE, status VARCHAR, is_new BOOLEAN, provider VARCHAR,
    prompt_version VARCHAR);

CREATE TABLE IF NOT EXISTS item_sources (day DATE, item_id VARCHAR, channel_id VARCHAR, ts VARCHAR);

CREATE TABLE IF NOT EXISTS llm_failures (
    day DATE, stage VARCHAR, subject_id VARCHAR, error VARCHAR);
