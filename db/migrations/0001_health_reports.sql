-- Every health-check workflow records its report, so the UI can chart dependency latency over time.
CREATE TABLE IF NOT EXISTS health_reports (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  workflow_id VARCHAR(255) NOT NULL,
  run_id VARCHAR(64) NOT NULL,
  checked_at DATETIME(3) NOT NULL,
  healthy BOOLEAN NOT NULL,
  results JSON NOT NULL,
  UNIQUE KEY health_reports_run (run_id),
  KEY health_reports_checked_at (checked_at)
) ENGINE = InnoDB;
