-- MCP access control (DESIGN §8.1): which tenants or keys may use a server (both NULL = everyone), and which of its
-- tools (NULL = all). Listed ids are not foreign keys: deleting a tenant or key simply stops matching.
ALTER TABLE mcp_servers
    ADD COLUMN allowed_tenant_ids uuid[] CHECK (cardinality(allowed_tenant_ids) <= 1000),
    ADD COLUMN allowed_key_ids    uuid[] CHECK (cardinality(allowed_key_ids) <= 1000),
    ADD COLUMN allowed_tools      text[] CHECK (cardinality(allowed_tools) <= 1000);
