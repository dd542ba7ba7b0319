-- id: root-account-use-scheduled
-- title: The root user signed in or made a call (scheduled)
-- technique: T1078.004
-- severity: high
-- description: Every action of the root user. The query says nothing about time: the
--   schedule's look-back chooses the events a run reads (by eventTime, among the files
--   delivered so far), so the same query works on replay and late files alike.
SELECT event_id, user_arn, event_name, event_time
FROM cloudtrail
WHERE user_type = 'Root'
  AND event_type <> 'AwsServiceEvent'
  AND record->'userIdentity'->>'invokedBy' IS NULL
