SELECT status, count(*) AS handoffs FROM handoffs GROUP BY status ORDER BY status
