-- id: credentials-for-another-user
-- title: An access key or console password created for another user
-- technique: T1098.001
-- severity: high
-- description: CreateAccessKey or CreateLoginProfile naming a user who is not the
--   caller. Here administrators set up new hires through their IAM Identity Center
--   administrator session; anyone else making credentials for someone else is not how
--   this organization works.
SELECT event_id
FROM cloudtrail
WHERE event_source = 'iam.amazonaws.com'
  AND event_name IN ('CreateAccessKey', 'CreateLoginProfile')
  AND error_code IS NULL
  AND request_parameters->>'userName' IS NOT NULL
  AND request_parameters->>'userName' IS DISTINCT FROM user_name
  AND coalesce(session_issuer_arn, '') NOT LIKE '%/AWSReservedSSO_AdministratorAccess_%'
