-- Fairway schema, DESIGN.md §2. Applied by `fairway-management` at start-up (or `fairway-management migrate`).
-- Every table keys on UUIDs from gen_random_uuid() (built into Postgres 13+) and stores times as timestamptz.

-- Configuration ------------------------------------------------------------------------------------------------------

CREATE TABLE fairshare_groups (
    name        text CONSTRAINT fairshare_groups_name_pkey PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    weight      integer NOT NULL DEFAULT 100 CHECK (weight > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tenants (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name               text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 128),
    weight             integer NOT NULL DEFAULT 100 CHECK (weight > 0),
    tokens_per_minute  bigint NOT NULL DEFAULT 0 CHECK (tokens_per_minute >= 0),
    group_name         text REFERENCES fairshare_groups (name) ON UPDATE CASCADE ON DELETE RESTRICT,
    max_concurrency    integer CHECK (max_concurrency > 0),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenants_group_name_idx ON tenants (group_name);

CREATE TABLE api_keys (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    key_hash      text NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
    key_prefix    text NOT NULL CHECK (length(key_prefix) = 12),
    disabled      boolean NOT NULL DEFAULT false,
    expires_at    timestamptz,
    last_used_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_keys_tenant_id_idx ON api_keys (tenant_id, created_at, id);

CREATE TABLE models (
    id                         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    model_name                 text NOT NULL UNIQUE CHECK (length(model_name) BETWEEN 1 AND 256),
    provider                   text NOT NULL CHECK (provider IN ('openai', 'anthropic')),
    upstream_model             text NOT NULL CHECK (length(upstream_model) BETWEEN 1 AND 256),
    api_base                   text NOT NULL CHECK (api_base ~ '^https?://'),
    api_key                    text,
    input_cost_per_token       numeric(24, 12) NOT NULL DEFAULT 0 CHECK (input_cost_per_token >= 0),
    output_cost_per_token      numeric(24, 12) NOT NULL DEFAULT 0 CHECK (output_cost_per_token >= 0),
    context_window             integer CHECK (context_window > 0),
    admission_weight           double precision NOT NULL DEFAULT 1.0 CHECK (admission_weight > 0),
    max_concurrency            integer CHECK (max_concurrency > 0),
    rpm_limit                  integer CHECK (rpm_limit > 0),
    tpm_limit                  bigint CHECK (tpm_limit > 0),
    supports_function_calling  boolean NOT NULL DEFAULT true,
    supports_system_messages   boolean NOT NULL DEFAULT true,
    enabled                    boolean NOT NULL DEFAULT true,
    cache_enabled              boolean NOT NULL DEFAULT false,
    cache_ttl_secs             integer NOT NULL DEFAULT 300 CHECK (cache_ttl_secs > 0),
    timeout_secs               integer NOT NULL DEFAULT 600 CHECK (timeout_secs > 0),
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE model_groups (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name               text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 256),
    display_name       text,
    description        text,
    enabled            boolean NOT NULL DEFAULT true,
    failover_strategy  text NOT NULL DEFAULT 'priority'
                       CHECK (failover_strategy IN ('priority', 'quota_aware', 'round_robin')),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE model_group_members (
    group_id    uuid NOT NULL REFERENCES model_groups (id) ON DELETE CASCADE,
    model_id    uuid NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    priority    integer NOT NULL DEFAULT 0,
    enabled     boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, model_id)
);
CREATE INDEX model_group_members_model_id_idx ON model_group_members (model_id);

CREATE TABLE mcp_servers (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name         text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    base_url     text NOT NULL CHECK (base_url ~ '^https?://'),
    auth_header  text,
    enabled      boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Audit and versioning -----------------------------------------------------------------------------------------------

CREATE TABLE audit_log (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    action       text NOT NULL,
    entity_type  text NOT NULL,
    entity_id    text NOT NULL,
    actor        text NOT NULL,
    payload      jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_created_at_idx ON audit_log (created_at, id);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id, created_at);
CREATE INDEX audit_log_action_idx ON audit_log (action, created_at);

-- The audit log is append-only: rows can be added, never changed or removed.
CREATE FUNCTION audit_log_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
END
$$;
CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

-- One row; bumped in the same transaction as every configuration change. Relays poll it (DESIGN §4).
CREATE TABLE config_version (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    version     bigint NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO config_version (id, version) VALUES (true, 0);

-- Request logs, partitioned by UTC day ------------------------------------------------------------------------------

CREATE TABLE request_logs (
    request_id         uuid NOT NULL,
    started_at         timestamptz NOT NULL,
    finished_at        timestamptz NOT NULL,
    tenant_id          uuid NOT NULL,
    api_key_id         uuid NOT NULL,
    model_name         text NOT NULL,
    model_group        text,
    deployment_id      uuid,
    provider           text,
    endpoint           text NOT NULL,
    stream             boolean NOT NULL DEFAULT false,
    status_code        integer NOT NULL,
    error_type         text,
    prompt_tokens      bigint NOT NULL DEFAULT 0,
    completion_tokens  bigint NOT NULL DEFAULT 0,
    cached_tokens      bigint NOT NULL DEFAULT 0,
    cost_usd           numeric(24, 12) NOT NULL DEFAULT 0,
    latency_ms         integer NOT NULL DEFAULT 0,
    ttft_ms            integer,
    queue_ms           integer NOT NULL DEFAULT 0,
    attempts           integer NOT NULL DEFAULT 0,
    cache_hit          boolean NOT NULL DEFAULT false,
    relay_id           text NOT NULL,
    PRIMARY KEY (request_id, started_at)
) PARTITION BY RANGE (started_at);
CREATE INDEX request_logs_tenant_idx ON request_logs (tenant_id, started_at);
CREATE INDEX request_logs_key_idx ON request_logs (api_key_id, started_at);

-- Creates the partition holding one UTC day (idempotent); returns its name.
CREATE FUNCTION request_logs_ensure_partition(day date) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    partition_name text := 'request_logs_' || to_char(day, 'YYYYMMDD');
    lower_bound timestamptz := day::timestamp AT TIME ZONE 'UTC';
    upper_bound timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
BEGIN
    EXECUTE format(
        'CREATE TABLE IF NOT EXISTS %I PARTITION OF request_logs FOR VALUES FROM (%L) TO (%L)',
        partition_name, lower_bound, upper_bound
    );
    RETURN partition_name;
END
$$;

-- Drops the partitions of days before `cutoff` (UTC); returns how many were dropped. Rollups are kept.
CREATE FUNCTION request_logs_drop_partitions_before(cutoff date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    child_table record;
    dropped integer := 0;
BEGIN
    FOR child_table IN
        SELECT child.relname AS name
        FROM pg_inherits
        JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
        JOIN pg_class child ON child.oid = pg_inherits.inhrelid
        WHERE parent.relname = 'request_logs'
          AND child.relname ~ '^request_logs_[0-9]{8}$'
          AND to_date(substring(child.relname FROM '[0-9]{8}$'), 'YYYYMMDD') < cutoff
    LOOP
        EXECUTE format('DROP TABLE IF EXISTS %I', child_table.name);
        dropped := dropped + 1;
    END LOOP;
    RETURN dropped;
END
$$;

SELECT request_logs_ensure_partition((now() AT TIME ZONE 'UTC')::date + offset_days)
FROM generate_series(-1, 7) AS offset_days;

-- Daily spend rollup (DESIGN §6) --------------------------------------------------------------------------------------

CREATE TABLE daily_spend (
    day                date NOT NULL,
    tenant_id          uuid NOT NULL,
    api_key_id         uuid NOT NULL,
    model_name         text NOT NULL,
    deployment_id      uuid,
    requests           bigint NOT NULL DEFAULT 0,
    succeeded          bigint NOT NULL DEFAULT 0,
    failed             bigint NOT NULL DEFAULT 0,
    cache_hits         bigint NOT NULL DEFAULT 0,
    prompt_tokens      bigint NOT NULL DEFAULT 0,
    completion_tokens  bigint NOT NULL DEFAULT 0,
    cached_tokens      bigint NOT NULL DEFAULT 0,
    cost_usd           numeric(24, 12) NOT NULL DEFAULT 0,
    latency_ms_sum     bigint NOT NULL DEFAULT 0,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT daily_spend_grain UNIQUE NULLS NOT DISTINCT (day, tenant_id, api_key_id, model_name, deployment_id)
);
CREATE INDEX daily_spend_tenant_day_idx ON daily_spend (tenant_id, day);
CREATE INDEX daily_spend_day_idx ON daily_spend (day);
