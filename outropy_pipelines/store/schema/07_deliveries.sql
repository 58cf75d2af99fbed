-- The delivery ledger: one row per (day, user, channel); its states are in domain/delivery_plan.py.
CREATE TABLE IF NOT EXISTS deliveries (
    day DATE, user_id VARCHAR, channel VARCHAR, status VARCHAR, attempts INTEGER,
    last_error VARCHAR, sent_at TIMESTAMP, external_id VARCHAR, content_hash VARCHAR,
    next_attempt_at TIMESTAMP, address VARCHAR, updated_at TIMESTAMP,
    PRIMARY KEY (day, user_id, channel));

-- added after the first release (no-ops on new files)
ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS address VARCHAR;
ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS updated_at TIMESTAMP;
-- the process holding a `sending` row (pid-start-host), and whether the last attempt may have arrived
ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS claimed_by VARCHAR;
ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS in_doubt BOOLEAN;
