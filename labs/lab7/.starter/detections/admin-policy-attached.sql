-- id: admin-policy-attached
-- title: Admin policy attached to a user
-- technique: T1098
-- severity: critical
-- TODO - users are not the only principals a policy can be attached to. And does
--   '%Admin%' match only the policy you mean? Look up AWS's managed policies whose
--   names begin with Administrator. ATT&CK has a sub-technique for this.
SELECT event_id
FROM cloudtrail
WHERE event_name = 'AttachUserPolicy'
  AND request_parameters->>'policyArn' LIKE '%Admin%'
