-- id: admin-policy-attached
-- title: Administrator rights given: AdministratorAccess attached, or an inline policy allowing everything
-- technique: T1098.003
-- severity: critical
-- description: The AWS managed AdministratorAccess policy attached to a user, role or
--   group (its ARN exactly: other AWS managed policies have names that start the same
--   way), or an inline policy put on one that allows every action.
SELECT event_id
FROM cloudtrail
WHERE event_source = 'iam.amazonaws.com'
  AND error_code IS NULL
  AND (
      (event_name IN ('AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy')
       AND request_parameters->>'policyArn' = 'arn:aws:iam::aws:policy/AdministratorAccess')
      OR
      (event_name IN ('PutUserPolicy', 'PutRolePolicy', 'PutGroupPolicy')
       AND regexp_matches(request_parameters->>'policyDocument',
                          '"Action"\s*:\s*(\[[^\]]*)?"\*"'))
  )
