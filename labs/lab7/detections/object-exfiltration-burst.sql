-- id: object-exfiltration-burst
-- title: Many objects read in an hour
-- technique: T1530
-- severity: high
-- TODO - more than 100 GetObject calls an hour by one access key. Who in the baseline
--   reads that much every night, and by design? What kind of identity is it, and what
--   kind did the thief use? Does an intruder read objects without first listing them?
SELECT event_id
FROM cloudtrail
WHERE event_name = 'GetObject'
  AND access_key_id IN (
      SELECT access_key_id
      FROM cloudtrail
      WHERE event_name = 'GetObject'
      GROUP BY access_key_id, time_bucket(INTERVAL 1 HOUR, event_time)
      HAVING count(*) > 100
  )
