-- FAAFO's Fractal records: the original's columns (uuid, checksum, url, duration, size, width, height,
-- iterations, xa…yb, generated_by) with the Julia constant and a status, but no image: PNGs live in
-- object storage (the original's BLOB column was too small and truncated them, Launchpad #1496687).
-- The checksum is not unique (the original's was): two fractals with equal parameters and constant are
-- equal images, and neither may be refused for it.
CREATE TABLE IF NOT EXISTS fractals (
  uuid CHAR(36) NOT NULL PRIMARY KEY,
  status ENUM('queued', 'done') NOT NULL DEFAULT 'queued',
  checksum CHAR(64) NULL,
  url VARCHAR(256) NULL,
  duration DOUBLE NULL,
  size INT NULL,
  width INT NOT NULL,
  height INT NOT NULL,
  iterations INT NOT NULL,
  xa DOUBLE NOT NULL,
  xb DOUBLE NOT NULL,
  ya DOUBLE NOT NULL,
  yb DOUBLE NOT NULL,
  cx DOUBLE NOT NULL,
  cy DOUBLE NOT NULL,
  generated_by VARCHAR(256) NULL,
  batch_id CHAR(36) NULL,
  -- Each render's result names the parameters it was made from: a stale render (from before a PUT)
  -- never overwrites the newer parameters' result.
  revision INT NOT NULL DEFAULT 1,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  rendered_at DATETIME(3) NULL,
  KEY fractals_newest (created_at, uuid),
  KEY fractals_batch (batch_id, status)
) ENGINE = InnoDB;

-- A batch as it was asked for: the gallery's progress bar is done / tasks of its fractals.
CREATE TABLE IF NOT EXISTS fractal_batches (
  id CHAR(36) NOT NULL PRIMARY KEY,
  tasks INT NOT NULL,
  -- Its fractals deleted since: the batch is finished once done + removed reaches tasks.
  removed INT NOT NULL DEFAULT 0,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE = InnoDB;
