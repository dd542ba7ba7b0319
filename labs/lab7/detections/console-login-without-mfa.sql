-- id: console-login-without-mfa
-- title: Console sign-in without MFA
-- technique: T1078
-- severity: high
-- TODO - this first draft flags every ConsoleLogin whose MFAUsed is 'No'. For which kinds
--   of identity did AWS itself check the MFA, and did each of these sign-ins open the console?
--   List your practice dataset's ConsoleLogin events by user_type, MFAUsed and
--   responseElements before you decide. And ATT&CK has a sub-technique for this.
SELECT event_id
FROM cloudtrail
WHERE event_name = 'ConsoleLogin'
  AND additional_event_data->>'MFAUsed' = 'No'
