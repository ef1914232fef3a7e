-- Prompt-caching prices (per token, nullable: absent means the input price) so a cache-heavy client is billed what
-- the provider bills, and whether an OpenAI-compatible deployment serves the Responses API natively.
ALTER TABLE models
    ADD COLUMN cache_read_cost_per_token  numeric(24, 12) CHECK (cache_read_cost_per_token >= 0),
    ADD COLUMN cache_write_cost_per_token numeric(24, 12) CHECK (cache_write_cost_per_token >= 0),
    ADD COLUMN supports_responses_api     boolean NOT NULL DEFAULT false;
