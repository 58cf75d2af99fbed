-- Event-sourced memory per channel, project and person: a day's row folds the previous day's with
-- that day's items; open_items is JSON.
CREATE TABLE IF NOT EXISTS entity_summaries (
    day DATE, entity_id VARCHAR, entity_kind VARCHAR, name VARCHAR, summary VARCHAR,
    open_items VARCHAR, item_ids_today VARCHAR[], as_of VARCHAR, provider VARCHAR);

-- one row per (entity, visibility scope): 'public' or the private conversation's id (files written
-- before scopes hold public summaries only)
ALTER TABLE entity_summaries ADD COLUMN IF NOT EXISTS scope VARCHAR DEFAULT 'public';
