-- id: console-and-idp-sign-ins-disagree
-- title: Console sign-in after failed identity-provider sign-ins
-- technique: T1078.004
-- severity: high
-- TODO - a first draft. It joins the two logs on the address, looks back an hour, and
--   asks only one question. Who is "the same person" in both logs (an IAM user's name,
--   an SSO session's e-mail, the IdP's e-mail)? How long is the window meant to be? What
--   if the person got in at the IdP between the failure and the console? And the reverse:
--   AWS says no, then the identity provider says yes.
SELECT c.event_id
FROM cloudtrail AS c
JOIN idp_signins AS i
  ON i.source_ip = c.source_ip
 AND i.result = 'FAILURE'
 AND i.event_time BETWEEN c.event_time - INTERVAL 60 MINUTE AND c.event_time
WHERE c.event_name = 'ConsoleLogin'
  AND c.response_elements->>'ConsoleLogin' = 'Success'
