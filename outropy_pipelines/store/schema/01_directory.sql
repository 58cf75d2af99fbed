-- Who and where: the workspace's people, conversations, membership snapshot and subscriptions.
-- Written whole by slack_directory (a snapshot per run).
CREATE TABLE IF NOT EXISTS users (
    user_id VARCHAR, name VARCHAR, real_name VARCHAR, email VARCHAR, tz VARCHAR,
    is_bot BOOLEAN, deleted BOOLEAN);

CREATE TABLE IF NOT EXISTS channels (
    channel_id VARCHAR, name VARCHAR, kind VARCHAR, is_archived BOOLEAN, topic VARCHAR,
    purpose VARCHAR);

CREATE TABLE IF NOT EXISTS channel_members (channel_id VARCHAR, user_id VARCHAR);

CREATE TABLE IF NOT EXISTS subscriptions (
    user_id VARCHAR, slack BOOLEAN, email BOOLEAN, email_address VARCHAR, active BOOLEAN);
-- when a reader's briefing is delivered (NULL: the OUTROPY_* default); see domain/subscriptions.py
ALTER TABLE subscriptions ADD COLUMN IF NOT EXISTS delivery_hour INTEGER;
ALTER TABLE subscriptions ADD COLUMN IF NOT EXISTS quiet_hours VARCHAR;
ALTER TABLE subscriptions ADD COLUMN IF NOT EXISTS weekend VARCHAR;
-- what a reader's briefing shows (domain/reader_preferences.py): ReaderPreferences as JSON, NULL: none
ALTER TABLE subscriptions ADD COLUMN IF NOT EXISTS preferences VARCHAR;
