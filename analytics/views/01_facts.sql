-- One copy of each fact: a redelivered stream record yields facts with the same fact_id.
CREATE OR REPLACE VIEW facts AS
SELECT *
FROM (
  SELECT r.*, row_number() OVER (PARTITION BY r.fact_id ORDER BY r.seq) AS copy_no
  FROM facts_raw r
) d
WHERE copy_no = 1
