-- Clusters and nodes (PyScaler's control app). Profiles are named and shared by clusters; an SSH
-- profile holds a key *reference* (a file name under SSH_KEYS_DIR), never the key itself.
CREATE TABLE IF NOT EXISTS ec2_profiles (
  name VARCHAR(64) NOT NULL PRIMARY KEY,
  region VARCHAR(32) NOT NULL,
  image_id VARCHAR(64) NOT NULL,
  instance_type VARCHAR(32) NOT NULL,
  key_name VARCHAR(255) NULL,
  security_groups JSON NOT NULL,
  subnet_id VARCHAR(64) NULL,
  -- A target group's name or ARN; a name is looked up at each use (moto's ARNs change at restart).
  target_group VARCHAR(255) NOT NULL,
  target_port INT NULL,
  user_data TEXT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS ssh_profiles (
  name VARCHAR(64) NOT NULL PRIMARY KEY,
  user VARCHAR(64) NOT NULL,
  key_ref VARCHAR(128) NOT NULL,
  port INT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS clusters (
  name VARCHAR(40) NOT NULL PRIMARY KEY,
  min_nodes INT NOT NULL,
  max_nodes INT NOT NULL,
  ec2_profile VARCHAR(64) NOT NULL,
  ssh_profile VARCHAR(64) NOT NULL,
  notify_email VARCHAR(255) NULL,
  -- The runbook a new node goes through (OSConfiguration, then LocalScripts), and the script every
  -- node runs when the cluster's membership changes.
  puppet_manifest TEXT NULL,
  tomcat_script TEXT NULL,
  deploy_script TEXT NULL,
  cluster_update_script TEXT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  CONSTRAINT clusters_ec2_profile FOREIGN KEY (ec2_profile) REFERENCES ec2_profiles (name),
  CONSTRAINT clusters_ssh_profile FOREIGN KEY (ssh_profile) REFERENCES ssh_profiles (name)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS nodes (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  cluster VARCHAR(40) NOT NULL,
  name VARCHAR(48) NOT NULL,
  -- The deployment (workflow) that owns the row: reservations are idempotent on it.
  deployment_id VARCHAR(128) NOT NULL,
  state VARCHAR(16) NOT NULL,
  ec2_profile VARCHAR(64) NOT NULL,
  ssh_profile VARCHAR(64) NOT NULL,
  instance_id VARCHAR(32) NULL,
  ssh_host VARCHAR(255) NULL,
  ssh_port INT NULL,
  private_ip VARCHAR(64) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  UNIQUE KEY nodes_name (cluster, name),
  UNIQUE KEY nodes_deployment (deployment_id),
  CONSTRAINT nodes_cluster FOREIGN KEY (cluster) REFERENCES clusters (name)
) ENGINE = InnoDB;
