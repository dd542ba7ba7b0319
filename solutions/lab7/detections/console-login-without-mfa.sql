-- id: console-login-without-mfa
-- title: An IAM user signed in to the console without MFA
-- technique: T1078.004
-- severity: high
-- description: A password alone opened the console. Only for IAM users (and root) does
--   MFAUsed speak of a device AWS checked; an IAM Identity Center sign-in did its MFA at
--   the identity provider and says MFAUsed "No" all the same. A failed sign-in opened nothing.
SELECT event_id
FROM cloudtrail
WHERE event_source = 'signin.amazonaws.com'
  AND event_name = 'ConsoleLogin'
  AND user_type = 'IAMUser'
  AND response_elements->>'ConsoleLogin' = 'Success'
  AND additional_event_data->>'MFAUsed' = 'No'
