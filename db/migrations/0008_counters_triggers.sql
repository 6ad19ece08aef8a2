-- Counters and triggers (PyScaler's monitoring and control apps): their definitions only. A counter's
-- and a trigger's definition is the JSON the API took (workflows/triggers.shared.ts), so a decimal
-- threshold reads back exactly as written; what queries select on is in columns.
CREATE TABLE IF NOT EXISTS counters (
  name VARCHAR(40) NOT NULL PRIMARY KEY,
  kind VARCHAR(16) NOT NULL,
  definition JSON NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS triggers (
  name VARCHAR(40) NOT NULL PRIMARY KEY,
  cluster VARCHAR(40) NOT NULL,
  enabled BOOLEAN NOT NULL,
  -- Everything else: counters, combine, intervals, hysteresis, circuit breaker, the chain.
  definition JSON NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  KEY triggers_cluster (cluster),
  CONSTRAINT triggers_cluster FOREIGN KEY (cluster) REFERENCES clusters (name)
) ENGINE = InnoDB;

-- Which counters a trigger reads, so a counter in use cannot be deleted (and a trigger cannot name
-- one that does not exist) even when two requests race.
CREATE TABLE IF NOT EXISTS trigger_counters (
  trigger_name VARCHAR(40) NOT NULL,
  counter_name VARCHAR(40) NOT NULL,
  PRIMARY KEY (trigger_name, counter_name),
  KEY trigger_counters_counter (counter_name),
  CONSTRAINT trigger_counters_trigger FOREIGN KEY (trigger_name) REFERENCES triggers (name) ON DELETE CASCADE,
  CONSTRAINT trigger_counters_counter FOREIGN KEY (counter_name) REFERENCES counters (name)
) ENGINE = InnoDB;
