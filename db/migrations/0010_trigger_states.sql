-- Trigger state between ticks, each tick's outcome (so a retried tick activity returns it instead of
-- evaluating twice), and every firing with the chain it ran. A trigger's definition is in `triggers`.
CREATE TABLE IF NOT EXISTS trigger_states (
  trigger_name VARCHAR(64) NOT NULL PRIMARY KEY,
  cluster VARCHAR(40) NOT NULL,
  state JSON NOT NULL,
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  KEY trigger_states_cluster (cluster)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS trigger_ticks (
  cluster VARCHAR(40) NOT NULL PRIMARY KEY,
  tick_id VARCHAR(128) NOT NULL,
  result JSON NOT NULL,
  ticked_at DATETIME(3) NOT NULL
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS trigger_firings (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  trigger_name VARCHAR(64) NOT NULL,
  cluster VARCHAR(40) NOT NULL,
  cause VARCHAR(16) NOT NULL,
  fired_at DATETIME(3) NOT NULL,
  -- Why it fired (FiringContext) and the chain as it was then: an edit changes the next firing only.
  context JSON NOT NULL,
  chain JSON NOT NULL,
  chain_workflow_id VARCHAR(255) NOT NULL,
  -- The chain run that carried it out; a manual run's row is keyed by it (a retried start finds it).
  chain_run_id VARCHAR(64) NULL,
  -- running, succeeded, failed, or suppressed (another chain of the trigger was running).
  outcome VARCHAR(16) NOT NULL,
  detail TEXT NULL,
  ended_at DATETIME(3) NULL,
  UNIQUE KEY trigger_firings_run (chain_run_id),
  KEY trigger_firings_trigger (trigger_name, fired_at)
) ENGINE = InnoDB;
