-- id: root-account-use-scheduled
-- title: The root user signed in or made a call (scheduled)
-- technique: T1078.004
-- severity: high
-- TODO - the SIEM runs this every interval_minutes over the events of the last
--   lookback_minutes (schedule.toml): who should decide which events a run reads, the
--   query or the schedule? What does now() mean when a log file arrives 20 minutes late?
--   Return the columns your de-duplication key names.
SELECT event_id, user_arn, event_name, event_time
FROM cloudtrail
WHERE user_type = 'Root'
  AND event_type <> 'AwsServiceEvent'
  AND record->'userIdentity'->>'invokedBy' IS NULL
  AND event_time >= now() - INTERVAL 5 MINUTE
