-- id: object-exfiltration-burst
-- title: A burst of object reads by a person's credentials
-- technique: T1530
-- severity: high
-- description: 50 or more GetObject calls within 10 minutes by one access key from one
--   address, when the key is not a workload role's (the data pipeline and the
--   services read thousands of objects by design): then every object read and listing
--   of that key from that address around the burst.
WITH reads AS (
    SELECT event_id, event_time, event_name, source_ip,
           coalesce(access_key_id, principal_id) AS credential
    FROM cloudtrail
    WHERE event_source = 's3.amazonaws.com'
      AND event_name IN ('GetObject', 'ListObjects', 'ListObjectsV2')
      AND error_code IS NULL
      AND NOT (user_type = 'AssumedRole'
               AND coalesce(session_issuer_arn, '') NOT LIKE '%/AWSReservedSSO_%')
), counted AS (
    SELECT *, count(*) FILTER (WHERE event_name = 'GetObject') OVER (
        PARTITION BY credential, source_ip ORDER BY event_time
        RANGE BETWEEN INTERVAL 10 MINUTE PRECEDING AND CURRENT ROW) AS recent
    FROM reads
), bursts AS (
    SELECT credential, source_ip, min(event_time) AS first_seen, max(event_time) AS last_seen
    FROM counted WHERE recent >= 50
    GROUP BY credential, source_ip
)
SELECT reads.event_id
FROM reads JOIN bursts USING (credential, source_ip)
WHERE reads.event_time BETWEEN bursts.first_seen - INTERVAL 10 MINUTE
                           AND bursts.last_seen + INTERVAL 10 MINUTE
