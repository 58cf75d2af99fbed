-- The content-addressed LLM cache, and billable usage per Dagster run (the per-run token budget
-- spans the run's steps).
CREATE TABLE IF NOT EXISTS llm_calls (
    cache_key VARCHAR PRIMARY KEY, provider VARCHAR, model VARCHAR, prompt_version VARCHAR,
    input_tokens INTEGER, output_tokens INTEGER, response_json VARCHAR,
    created_at TIMESTAMP DEFAULT current_timestamp);

CREATE TABLE IF NOT EXISTS llm_run_usage (
    run_id VARCHAR, prompt_version VARCHAR, provider VARCHAR, model VARCHAR, requests INTEGER,
    cache_hits INTEGER, failures INTEGER, input_tokens BIGINT, output_tokens BIGINT,
    cost_usd DOUBLE, recorded_at TIMESTAMP DEFAULT current_timestamp);
