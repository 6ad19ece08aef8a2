-- The node's SSH host key (SHA-256, hex), learnt at its first login and checked at every later one.
ALTER TABLE nodes ADD COLUMN IF NOT EXISTS host_key_sha256 VARCHAR(64) NULL;
