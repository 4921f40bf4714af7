-- migrate:up
ALTER TABLE readings ADD COLUMN unit text NOT NULL DEFAULT 'celsius';

-- migrate:down
ALTER TABLE readings DROP COLUMN unit;
