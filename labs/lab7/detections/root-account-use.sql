-- id: root-account-use
-- title: Root user sign-in
-- technique: T1078.004
-- severity: high
-- TODO - a root sign-in is where it starts. What does the root user do once it is in,
--   and what does CloudTrail record for it?
SELECT event_id
FROM cloudtrail
WHERE event_name = 'ConsoleLogin'
  AND user_type = 'Root'
