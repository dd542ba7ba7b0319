-- id: console-and-idp-sign-ins-disagree
-- title: A console sign-in succeeds after the identity provider refused the person, or the reverse
-- technique: T1078.004
-- severity: high
-- description: The same person, within 30 minutes: the identity provider's sign-ins fail
--   and then an AWS console sign-in succeeds with no IdP success between; or AWS console
--   sign-ins fail and then the identity provider lets them in with no console success
--   between. A person is the IdP e-mail's name: the IAM user of that name, or the IAM
--   Identity Center session named by the e-mail.
WITH console AS (
    SELECT event_id, event_time, split_part(lower(user_name), '@', 1) AS person,
           response_elements->>'ConsoleLogin' = 'Success' AS succeeded
    FROM cloudtrail
    WHERE event_source = 'signin.amazonaws.com'
      AND event_name = 'ConsoleLogin'
      AND user_name IS NOT NULL
), idp AS (
    SELECT event_id, event_time, lower(user_name) AS person, result = 'SUCCESS' AS succeeded
    FROM idp_signins
    WHERE user_name IS NOT NULL
)
-- The identity provider said no, then AWS said yes.
SELECT c.event_id
FROM console AS c
JOIN idp AS f
  ON f.person = c.person
 AND NOT f.succeeded
 AND f.event_time < c.event_time
 AND f.event_time >= c.event_time - INTERVAL 30 MINUTE
WHERE c.succeeded
  AND NOT EXISTS (
      SELECT 1 FROM idp AS s
      WHERE s.person = c.person AND s.succeeded
        AND s.event_time > f.event_time AND s.event_time < c.event_time
  )
UNION
-- AWS said no, then the identity provider said yes.
SELECT c.event_id
FROM console AS c
JOIN idp AS s
  ON s.person = c.person
 AND s.succeeded
 AND s.event_time > c.event_time
 AND s.event_time <= c.event_time + INTERVAL 30 MINUTE
WHERE NOT c.succeeded
  AND NOT EXISTS (
      SELECT 1 FROM console AS k
      WHERE k.person = c.person AND k.succeeded
        AND k.event_time > c.event_time AND k.event_time < s.event_time
  )
