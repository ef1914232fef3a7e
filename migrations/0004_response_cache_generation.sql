-- The response cache (DESIGN §5 step 3) keys entries by each deployment's cache generation: any change to a model
-- other than its prices (its upstream, its parameters, turning its cache off) bumps it, so old entries are never
-- served again; they expire on their own.
ALTER TABLE models ADD COLUMN cache_generation bigint NOT NULL DEFAULT 0;

CREATE FUNCTION models_bump_cache_generation() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    unpriced CONSTANT text[] := ARRAY['input_cost_per_token', 'output_cost_per_token', 'cache_read_cost_per_token',
                                      'cache_write_cost_per_token', 'updated_at', 'created_at', 'cache_generation'];
BEGIN
    IF (to_jsonb(NEW) - unpriced) IS DISTINCT FROM (to_jsonb(OLD) - unpriced) THEN
        NEW.cache_generation := OLD.cache_generation + 1;
    ELSE
        NEW.cache_generation := OLD.cache_generation;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER models_cache_generation
    BEFORE UPDATE ON models
    FOR EACH ROW EXECUTE FUNCTION models_bump_cache_generation();
