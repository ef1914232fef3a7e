-- Governance (DESIGN §13): spend budgets on tenants and keys, per-key model access and rate limits.
-- Budgets are exact decimals like every amount of money here; periods are UTC calendar periods, weeks from Monday.
ALTER TABLE tenants
    ADD COLUMN max_budget_usd   numeric(24, 12) CHECK (max_budget_usd >= 0),
    ADD COLUMN budget_period    text NOT NULL DEFAULT 'monthly' CHECK (budget_period IN ('daily', 'weekly', 'monthly', 'total')),
    ADD COLUMN soft_budget_usd  numeric(24, 12) CHECK (soft_budget_usd >= 0);

ALTER TABLE api_keys
    ADD COLUMN max_budget_usd   numeric(24, 12) CHECK (max_budget_usd >= 0),
    ADD COLUMN budget_period    text NOT NULL DEFAULT 'monthly' CHECK (budget_period IN ('daily', 'weekly', 'monthly', 'total')),
    ADD COLUMN soft_budget_usd  numeric(24, 12) CHECK (soft_budget_usd >= 0),
    ADD COLUMN allowed_models   text[] CHECK (cardinality(allowed_models) <= 256),
    ADD COLUMN rpm_limit        integer CHECK (rpm_limit > 0),
    ADD COLUMN tpm_limit        bigint CHECK (tpm_limit > 0);

-- A key's spend is read by key, a tenant's by tenant (daily_spend_tenant_day_idx).
CREATE INDEX daily_spend_key_day_idx ON daily_spend (api_key_id, day);

-- The first UTC day of the period containing `at` (NULL for 'total': every day counts).
CREATE FUNCTION fairway_budget_first_day(period text, at timestamptz) RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT CASE period
        WHEN 'daily' THEN (at AT TIME ZONE 'UTC')::date
        WHEN 'weekly' THEN date_trunc('week', at AT TIME ZONE 'UTC')::date
        WHEN 'monthly' THEN date_trunc('month', at AT TIME ZONE 'UTC')::date
    END
$$;

-- When the period containing `at` ends (NULL for 'total').
CREATE FUNCTION fairway_budget_resets_at(period text, at timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT CASE period
        WHEN 'daily' THEN ((at AT TIME ZONE 'UTC')::date + 1)::timestamp AT TIME ZONE 'UTC'
        WHEN 'weekly' THEN (date_trunc('week', at AT TIME ZONE 'UTC') + interval '7 days') AT TIME ZONE 'UTC'
        WHEN 'monthly' THEN (date_trunc('month', at AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC'
    END
$$;

-- Spend rolled up for a tenant or a key from `first_day` on (every day when NULL). The aggregator stores request logs
-- and their rollup in one transaction, so this is every stored request's cost.
CREATE FUNCTION fairway_spend_since(owner_kind text, owner_id uuid, first_day date) RETURNS numeric
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(cost_usd), 0) FROM daily_spend
    WHERE ((owner_kind = 'tenant' AND tenant_id = owner_id) OR (owner_kind = 'api_key' AND api_key_id = owner_id))
      AND (first_day IS NULL OR day >= first_day)
$$;
