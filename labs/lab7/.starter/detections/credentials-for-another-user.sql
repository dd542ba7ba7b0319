-- id: credentials-for-another-user
-- title: Access key created for another user
-- technique: T1098.001
-- severity: high
-- TODO - this flags every access key made for someone other than the caller. Who in
--   this organization legitimately does that, how do they sign in, and what do they
--   create besides keys? An intruder wants a way back in that is not the stolen key.
SELECT event_id
FROM cloudtrail
WHERE event_name = 'CreateAccessKey'
  AND request_parameters->>'userName' <> user_name
