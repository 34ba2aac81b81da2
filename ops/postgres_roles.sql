-- regledger on PostgreSQL: an append-only ledger enforced by roles as well as by triggers.
--
-- Run as the owner of the regledger tables (the role that ran `regledger migrate`) or a
-- superuser, connected to the regledger database, after `regledger migrate`; run it again
-- after every migration (it is idempotent):
--
--     psql -v ON_ERROR_STOP=1 -d regledger -f ops/postgres_roles.sql
--
-- It creates two group roles (NOLOGIN); give people and services login roles that are
-- members of them (see ops/VERIFYING.md, "Append-only in the database"):
--
--   regledger_ingest     `regledger ingest`, `monitor`, cases: appends to the ledger and the
--                        quarantine, and maintains the tables derived from them; never
--                        updates, deletes or truncates a ledger or quarantine row, never
--                        changes the schema or the triggers.
--   regledger_regulator  reads everything (`verify`, `replay`, `findings`, `prove`); writes
--                        nothing.
--   regledger_tokens     the admin path: `regledger token create|revoke|list`, and
--                        `regledger serve`, whose admin API writes tokens and whose console
--                        opens sessions (its login is in regledger_ingest too). The only role
--                        that writes api_tokens and console_sessions: the ingest role can
--                        neither read nor write them, so it cannot forge an admin token or a
--                        console session.

DO $$ BEGIN
    CREATE ROLE regledger_ingest NOLOGIN;
EXCEPTION WHEN duplicate_object THEN NULL;  -- roles are per cluster: another database made it
END $$;

DO $$ BEGIN
    CREATE ROLE regledger_regulator NOLOGIN;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

DO $$ BEGIN
    CREATE ROLE regledger_tokens NOLOGIN;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

DO $$ BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO regledger_ingest, regledger_regulator, regledger_tokens',
                   current_database());
END $$;
GRANT USAGE ON SCHEMA public TO regledger_ingest, regledger_regulator, regledger_tokens;

-- Nobody but the owner holds any right on the ledger unless granted below.
REVOKE ALL ON ledger_events FROM PUBLIC;

-- The ingest role: the derived tables (registry records, quarantine, findings, monitor state,
-- tracking, audit index, cases) in full; the ledger itself: read and append only.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO regledger_ingest;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO regledger_ingest;
REVOKE ALL ON ledger_events FROM regledger_ingest;
GRANT SELECT, INSERT ON ledger_events TO regledger_ingest;

-- The quarantine and its links are records too (chained, append-only): read and append only,
-- and the table lock their writers take (below, as for the ledger).
REVOKE ALL ON quarantine, quarantine_links FROM regledger_ingest;
GRANT SELECT, INSERT ON quarantine, quarantine_links TO regledger_ingest;

-- Writers serialise the hash chains with LOCK TABLE ledger_events (quarantine,
-- quarantine_links) IN EXCLUSIVE MODE (so that positions are gap-free and commit in order). PostgreSQL 17 permits that lock with the
-- MAINTAIN privilege; before 17 only with UPDATE, DELETE or TRUNCATE. There the role gets
-- UPDATE for the lock alone: every UPDATE of a ledger row is refused by the append-only
-- trigger, which only the table's owner can drop or disable, and session_replication_role
-- (which skips triggers) can only be set by a superuser.
DO $$ BEGIN
    IF current_setting('server_version_num')::int >= 170000 THEN
        EXECUTE 'GRANT MAINTAIN ON ledger_events, quarantine, quarantine_links TO regledger_ingest';
    ELSE
        EXECUTE 'GRANT UPDATE ON ledger_events, quarantine, quarantine_links TO regledger_ingest';
    END IF;
END $$;

-- The regulator role: read everything, write nothing.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO regledger_regulator;

-- Tables a later migration creates (as the role running this script) get the same rights.
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO regledger_ingest;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO regledger_ingest;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO regledger_regulator;

-- Tokens and console sessions: written by the admin path alone. Nothing above may reach
-- them (the ingest role's "all tables" and default privileges included), so this comes last.
REVOKE ALL ON api_tokens, console_sessions FROM PUBLIC, regledger_ingest, regledger_regulator;
GRANT SELECT, INSERT, UPDATE ON api_tokens TO regledger_tokens;
GRANT SELECT, INSERT, UPDATE, DELETE ON console_sessions TO regledger_tokens;
-- `serve` also reads the store, to open it (schema fingerprint) and to check a token's role.
GRANT SELECT ON regledger_meta TO regledger_tokens;
