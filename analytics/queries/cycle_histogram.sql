-- Cycle time distribution: handoffs per duration band, for each cycle-time metric (all service lines).
SELECT metric,
       CASE WHEN seconds < 60 THEN 1 WHEN seconds < 3600 THEN 2 WHEN seconds < 86400 THEN 3
            WHEN seconds < 259200 THEN 4 WHEN seconds < 604800 THEN 5 WHEN seconds < 1209600 THEN 6
            WHEN seconds < 2592000 THEN 7 ELSE 8 END AS band,
       count(*) AS handoffs
FROM durations
WHERE grp = 'all' AND metric IN ('closedWonToActivated', 'receivedToActivated')
GROUP BY 1, 2
ORDER BY 1, 2
