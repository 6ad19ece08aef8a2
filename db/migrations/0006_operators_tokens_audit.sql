-- Who may drive the fleet: operators (sign in with a password), their sessions, bearer tokens for
-- the HTTP API, and the audit log of what each of them changed. Sessions and tokens are stored as
-- SHA-256 hashes of the secret the client holds; passwords as scrypt hashes.
CREATE TABLE IF NOT EXISTS operators (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  username VARCHAR(64) NOT NULL UNIQUE,
  role ENUM('viewer', 'operator', 'admin') NOT NULL,
  password_hash VARCHAR(255) NOT NULL,
  -- Set for an account whose password someone else chose (the first admin's printed one).
  must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS operator_sessions (
  id_hash CHAR(64) NOT NULL PRIMARY KEY,
  operator_id BIGINT NOT NULL,
  csrf_token CHAR(43) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  last_seen_at DATETIME(3) NOT NULL,
  expires_at DATETIME(3) NOT NULL,
  KEY operator_sessions_operator (operator_id),
  CONSTRAINT operator_sessions_operator FOREIGN KEY (operator_id) REFERENCES operators (id) ON DELETE CASCADE
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS api_tokens (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(64) NOT NULL,
  role ENUM('viewer', 'operator', 'admin') NOT NULL,
  token_hash CHAR(64) NOT NULL UNIQUE,
  -- The token's first characters, so a list can tell tokens apart without holding them.
  prefix VARCHAR(16) NOT NULL,
  created_by VARCHAR(64) NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  last_used_at DATETIME(3) NULL,
  revoked_at DATETIME(3) NULL
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS audit_log (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  -- `user:alice` or `token:ci-runner#12`.
  actor VARCHAR(96) NOT NULL,
  role VARCHAR(16) NOT NULL,
  action VARCHAR(96) NOT NULL,
  target VARCHAR(512) NOT NULL,
  status SMALLINT NOT NULL,
  detail VARCHAR(1024) NULL,
  KEY audit_log_at (at)
) ENGINE = InnoDB;
