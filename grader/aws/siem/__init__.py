"""The SIEM engine: realistic CloudTrail and identity-provider logs with labelled attacks,
loaded into DuckDB, queried by SQL and Sigma detections, scored, and scheduled over late logs.

The generator:

- ``org``: a seeded organization (accounts, people, roles, CI, services, networks, clients);
- ``scenarios``: the attacks and look-alikes as data, with their ATT&CK techniques;
- ``recordkit`` and ``emit``: CloudTrail records and the fast templates behind the baseline;
- ``baseline``: the organization's ordinary days; ``incidents``: the planted stories;
- ``writer``: CloudTrail's S3 layout, delivery delays, streaming to disk;
- ``generate``: ``generate(out_dir, seed=...)``, the public entry point.

Detection:

- ``store``: ``open_dataset(folder)``, any CloudTrail folder as the DuckDB views
  ``cloudtrail`` and ``idp_signins``;
- ``detections``: SQL detection files (a header, one read-only query), run with a time limit;
- ``sigma``: Sigma rules converted to SQL over those views (pySigma's parser);
- ``attack``: the ATT&CK cloud techniques a detection may name;
- ``score``: precision and recall against labelled events;
- ``schedule``: a detection run every N minutes over what has been delivered by then;
- ``export``: a detection in Athena's SQL (sqlglot).

A pure library: nothing here imports ``grader`` outside ``grader/aws``; DuckDB, pySigma and
sqlglot are imported only where they are used.
"""
