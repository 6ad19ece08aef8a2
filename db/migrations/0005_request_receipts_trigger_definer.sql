-- 0002's trigger, made again by the account that migrates. A trigger runs with its definer's
-- privileges, and the definer needs TRIGGER on the table: on a database from before the application's
-- account was cut down to row privileges, that account was the definer, and its inserts into
-- request_receipts would now be refused.
DROP TRIGGER IF EXISTS request_receipts_count;
CREATE TRIGGER request_receipts_count BEFORE INSERT ON request_receipts FOR EACH ROW
  UPDATE request_recorder SET current_request_count = current_request_count + 1 WHERE run_id = NEW.run_id;
