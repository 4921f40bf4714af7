-- migrate:up
CREATE TABLE readings (
    id bigint PRIMARY KEY,
    sensor text NOT NULL,
    value double precision NOT NULL,
    taken_at timestamptz NOT NULL
);

-- migrate:down
DROP TABLE readings;
