-- id: instances-outside-tokyo-naive
-- title: Instances launched outside Tokyo (too naive: CI deploys in us-east-1)
-- technique: T1578.002
-- severity: high
SELECT event_id
FROM cloudtrail
WHERE event_name = 'RunInstances'
  AND aws_region <> 'ap-northeast-1'
