-- id: root-account-use
-- title: The root user signed in or made a call
-- technique: T1078.004
-- severity: high
-- description: Every action of the account's root user, its sign-in included. An event
--   AWS itself raises in the account (an AwsServiceEvent, or a call invokedBy a service)
--   is not someone using root.
SELECT event_id
FROM cloudtrail
WHERE user_type = 'Root'
  AND event_type <> 'AwsServiceEvent'
  AND record->'userIdentity'->>'invokedBy' IS NULL
