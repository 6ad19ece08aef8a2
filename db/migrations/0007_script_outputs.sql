-- A script run's output per node, kept out of Temporal's payloads (2 MiB at most each): the workflow
-- keeps a summary (exit code, byte counts, a short tail) and the views read the output here. Each
-- stream is cut at MAX_OUTPUT_BYTES (16 KiB); the byte counts are what the node printed in full.
CREATE TABLE IF NOT EXISTS script_outputs (
  workflow_id VARCHAR(255) NOT NULL,
  node VARCHAR(64) NOT NULL,
  stdout MEDIUMBLOB NOT NULL,
  stderr MEDIUMBLOB NOT NULL,
  stdout_bytes BIGINT NOT NULL,
  stderr_bytes BIGINT NOT NULL,
  stdout_truncated BOOLEAN NOT NULL,
  stderr_truncated BOOLEAN NOT NULL,
  recorded_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (workflow_id, node)
) ENGINE = InnoDB;
