-- id: instances-in-unused-regions
-- title: Instances launched in a region the organization does not use
-- technique: T1578.002
-- severity: high
-- description: The organization works in Tokyo and, for a few global services and CI,
--   in us-east-1. An instance anywhere else is someone else's idea: often mining on
--   stolen credentials, where nobody looks.
SELECT event_id
FROM cloudtrail
WHERE event_source = 'ec2.amazonaws.com'
  AND event_name = 'RunInstances'
  AND error_code IS NULL
  AND aws_region NOT IN ('ap-northeast-1', 'us-east-1')
