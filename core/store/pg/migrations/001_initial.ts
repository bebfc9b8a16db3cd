/**
 * Migration 1: runs, chunks, counters, source progress, attempts, dead letters, the queue, and
 * the coordination tables (leases, concurrency slots, rate-limit buckets).
 * @module
 */

/** The SQL of migration 1. */
export const sql = `
CREATE TABLE sluice_runs (
  id          text PRIMARY KEY,
  pipeline    text NOT NULL,
  state       text NOT NULL,
  created_at  bigint NOT NULL,
  finished_at bigint,
  -- The RunRecord as written (json keeps key order).
  record      json NOT NULL
);
-- Run lists: newest first, all runs / per pipeline / per state (cursor = created_at, id).
CREATE INDEX sluice_runs_by_time ON sluice_runs (created_at DESC, id DESC);
CREATE INDEX sluice_runs_by_pipeline ON sluice_runs (pipeline, created_at DESC, id DESC);
CREATE INDEX sluice_runs_by_state ON sluice_runs (state, created_at DESC, id DESC);
-- Retention: finished runs by age.
CREATE INDEX sluice_runs_by_finish ON sluice_runs (finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE sluice_chunks (
  run_id   text NOT NULL REFERENCES sluice_runs (id) ON DELETE CASCADE,
  stage    int NOT NULL,
  chunk    int NOT NULL,
  count    int NOT NULL,
  -- Items and rejected items as JSON arrays (json keeps each item's key order).
  items    json NOT NULL,
  rejected json,
  done_at  bigint NOT NULL,
  PRIMARY KEY (run_id, stage, chunk)
);
-- Rejected items of a run without scanning every chunk.
CREATE INDEX sluice_chunks_rejected ON sluice_chunks (run_id, stage, chunk) WHERE rejected IS NOT NULL;

CREATE TABLE sluice_counters (
  run_id      text NOT NULL REFERENCES sluice_runs (id) ON DELETE CASCADE,
  stage       int NOT NULL,
  n_in        bigint NOT NULL DEFAULT 0,
  n_out       bigint NOT NULL DEFAULT 0,
  filtered    bigint NOT NULL DEFAULT 0,
  skipped     bigint NOT NULL DEFAULT 0,
  failed      bigint NOT NULL DEFAULT 0,
  rejected    bigint NOT NULL DEFAULT 0,
  chunks_done bigint NOT NULL DEFAULT 0,
  chunks_dead bigint NOT NULL DEFAULT 0,
  busy_ms     bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, stage)
);

CREATE TABLE sluice_source (
  run_id     text PRIMARY KEY REFERENCES sluice_runs (id) ON DELETE CASCADE,
  next_chunk int NOT NULL,
  cursor     json,
  done       boolean NOT NULL
);

CREATE TABLE sluice_attempts (
  run_id     text NOT NULL REFERENCES sluice_runs (id) ON DELETE CASCADE,
  stage      int NOT NULL,
  chunk      int NOT NULL,
  attempts   int NOT NULL,
  last_error text NOT NULL,
  next_at    bigint NOT NULL,
  dead       boolean NOT NULL DEFAULT false,
  PRIMARY KEY (run_id, stage, chunk)
);

CREATE TABLE sluice_dead_letters (
  run_id   text NOT NULL REFERENCES sluice_runs (id) ON DELETE CASCADE,
  stage    int NOT NULL,
  chunk    int NOT NULL,
  stage_id text NOT NULL,
  attempts int NOT NULL,
  error    text NOT NULL,
  at       bigint NOT NULL,
  items    int NOT NULL,
  PRIMARY KEY (run_id, stage, chunk)
);

-- The queue: one row per unit of work (run/stage/chunk or run/finalize). A row is claimable
-- when ready_at has passed; a claim sets ready_at to the end of its visibility timeout and a
-- new lease. requeue_at records an enqueue that arrived while the row was held.
CREATE SEQUENCE sluice_queue_lease;
CREATE TABLE sluice_queue (
  key        text PRIMARY KEY,
  run_id     text NOT NULL,
  body       jsonb NOT NULL,
  ready_at   timestamptz NOT NULL,
  deliveries int NOT NULL DEFAULT 0,
  locked_by  text,
  lease      bigint,
  requeue_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sluice_queue_ready ON sluice_queue (ready_at);
CREATE INDEX sluice_queue_run ON sluice_queue (run_id);

-- Messages delivered too often without completing (their workers kept dying).
CREATE TABLE sluice_queue_dead (
  key        text PRIMARY KEY,
  run_id     text NOT NULL,
  body       jsonb NOT NULL,
  deliveries int NOT NULL,
  reason     text NOT NULL,
  at         timestamptz NOT NULL DEFAULT now()
);

-- Processes consuming the queue, for operators: when each started, was last seen (heartbeat)
-- and how many messages it finished.
CREATE TABLE sluice_workers (
  id         text PRIMARY KEY,
  started_at timestamptz NOT NULL DEFAULT now(),
  seen_at    timestamptz NOT NULL DEFAULT now(),
  handled    bigint NOT NULL DEFAULT 0,
  stopped    boolean NOT NULL DEFAULT false
);

-- Leases (scheduler leader, maintenance): one holder until expires_at (epoch ms).
CREATE TABLE sluice_leases (
  name       text PRIMARY KEY,
  owner      text NOT NULL,
  expires_at bigint NOT NULL
);

-- Cluster-wide concurrency slots: at most N rows of a scope are live at once.
CREATE TABLE sluice_slots (
  scope      text NOT NULL,
  slot       int NOT NULL,
  holder     text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (scope, slot)
);

-- Cluster-wide token buckets of rate limits (per stage and key, e.g. per host).
CREATE TABLE sluice_buckets (
  key        text PRIMARY KEY,
  tokens     double precision NOT NULL,
  at         double precision NOT NULL,
  touched_at timestamptz NOT NULL DEFAULT now()
);

-- Trigger state shared by every server (see core/triggers/trigger_store.ts).
CREATE TABLE sluice_trigger_state (
  pipeline   text NOT NULL,
  trigger    text NOT NULL,
  last_at    bigint,
  active_run text,
  queued_at  bigint,
  PRIMARY KEY (pipeline, trigger)
);
CREATE TABLE sluice_trigger_occurrences (
  pipeline   text NOT NULL,
  trigger    text NOT NULL,
  at         bigint NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (pipeline, trigger, at)
);
CREATE TABLE sluice_trigger_pauses (
  pipeline text NOT NULL,
  trigger  text NOT NULL,
  at       bigint NOT NULL,
  PRIMARY KEY (pipeline, trigger)
);
CREATE TABLE sluice_trigger_fires (
  pipeline     text NOT NULL,
  trigger      text NOT NULL,
  scheduled_at bigint NOT NULL,
  record       json NOT NULL,
  PRIMARY KEY (pipeline, trigger, scheduled_at)
);
CREATE TABLE sluice_hook_claims (
  pipeline   text NOT NULL,
  hook       text NOT NULL,
  kind       text NOT NULL,
  key        text NOT NULL,
  record     json,
  expires_at bigint NOT NULL,
  PRIMARY KEY (pipeline, hook, kind, key)
);
CREATE TABLE sluice_hook_deliveries (
  id       bigserial PRIMARY KEY,
  pipeline text NOT NULL,
  hook     text NOT NULL,
  at       bigint NOT NULL,
  record   json NOT NULL
);
CREATE INDEX sluice_hook_deliveries_newest ON sluice_hook_deliveries (pipeline, hook, at DESC, id DESC);
`;
