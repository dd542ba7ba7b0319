-- Hunt: where and with what each long-term access key (AKIA...) has been used.
-- One row per key, source address and client (the user agent's first word: the tool and
-- its version), newest first. A key that suddenly works from a new network, with a
-- client its owner does not use, across many regions, is the thread to pull.
SELECT
    access_key_id,
    user_name,
    source_ip,
    split_part(user_agent, ' ', 1) AS client,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen,
    count(*) AS calls,
    count(DISTINCT aws_region) AS regions,
    count(DISTINCT event_name) AS distinct_calls
FROM cloudtrail
WHERE access_key_id LIKE 'AKIA%'
GROUP BY access_key_id, user_name, source_ip, client
ORDER BY first_seen DESC
