//! PostgreSQL text input and output of datums (the formats psql shows and COPY uses).
