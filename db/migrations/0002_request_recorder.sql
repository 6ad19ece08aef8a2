-- Request runs (pcf-demo). The seed's four columns are kept; `timestamp` is no longer unique
-- (two runs in one second collided in the original), runs are keyed by run_id instead.
CREATE TABLE IF NOT EXISTS request_recorder (
  ID INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `timestamp` INT NOT NULL,
  current_request_count INT NOT NULL DEFAULT 0,
  max_possible_count INT NOT NULL,
  run_id VARCHAR(64) NOT NULL,
  scope VARCHAR(40) NOT NULL DEFAULT 'default',
  mode VARCHAR(16) NOT NULL,
  status VARCHAR(16) NOT NULL,
  concurrency INT NOT NULL,
  destination_url VARCHAR(2048) NOT NULL,
  sent_calls INT NOT NULL DEFAULT 0,
  failed_calls INT NOT NULL DEFAULT 0,
  started_at DATETIME(3) NOT NULL,
  ended_at DATETIME(3) NULL,
  latency_p50_ms DOUBLE NULL,
  latency_p90_ms DOUBLE NULL,
  latency_p99_ms DOUBLE NULL,
  latency_max_ms DOUBLE NULL,
  timeline JSON NULL,
  UNIQUE KEY request_recorder_run (run_id),
  KEY request_recorder_timestamp (`timestamp`)
) ENGINE = InnoDB;

-- Exactly-once mode: one row per (run, sequence number); a retried call hits the primary key.
CREATE TABLE IF NOT EXISTS request_receipts (
  run_id VARCHAR(64) NOT NULL,
  seq INT NOT NULL,
  PRIMARY KEY (run_id, seq),
  CONSTRAINT request_receipts_run FOREIGN KEY (run_id) REFERENCES request_recorder (run_id) ON DELETE CASCADE
) ENGINE = InnoDB;

-- The count moves in the same statement as the receipt, so a receipt is never without its increment
-- (a duplicate receipt fails the statement and undoes the increment). BEFORE, not AFTER: the run row
-- is locked for update before the foreign-key check share-locks it, so concurrent receipts queue
-- on the row instead of deadlocking.
CREATE TRIGGER IF NOT EXISTS request_receipts_count BEFORE INSERT ON request_receipts FOR EACH ROW
  UPDATE request_recorder SET current_request_count = current_request_count + 1 WHERE run_id = NEW.run_id;
