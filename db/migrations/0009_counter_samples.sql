-- Counter samples (performance data): every value a counter gave on a node at a tick, or why it gave
-- none (value NULL, error), kept COUNTER_RETENTION_DAYS; and per-minute roll-ups kept ten times as
-- long, for charts over days. A cf-process counter's node is the pseudo-node `cf:<app>`. A roll-up
-- is recomputed from the samples of its minute, so a retried recording does not count twice.
CREATE TABLE IF NOT EXISTS counter_samples (
  counter VARCHAR(40) NOT NULL,
  node VARCHAR(270) NOT NULL,
  at DATETIME(3) NOT NULL,
  value DOUBLE NULL,
  error VARCHAR(500) NULL,
  PRIMARY KEY (counter, node, at),
  KEY counter_samples_at (at)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS counter_rollups (
  counter VARCHAR(40) NOT NULL,
  node VARCHAR(270) NOT NULL,
  minute DATETIME NOT NULL,
  -- Samples with a value; min, max and sum are over them (NULL when the minute had only failures).
  count INT NOT NULL,
  min DOUBLE NULL,
  max DOUBLE NULL,
  sum DOUBLE NULL,
  failed INT NOT NULL,
  PRIMARY KEY (counter, node, minute),
  KEY counter_rollups_minute (minute)
) ENGINE = InnoDB;
