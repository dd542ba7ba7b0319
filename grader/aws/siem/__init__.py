"""The SIEM engine: realistic CloudTrail and identity-provider logs with labelled attacks,
and (from the other parts) loading into DuckDB, Sigma to SQL, scoring and scheduling.

The generator's parts:

- ``org``: a seeded organization (accounts, people, roles, CI, services, networks, clients);
- ``scenarios``: the attacks and look-alikes as data, with their ATT&CK techniques;
- ``recordkit`` and ``emit``: CloudTrail records and the fast templates behind the baseline;
- ``baseline``: the organization's ordinary days; ``incidents``: the planted stories;
- ``writer``: CloudTrail's S3 layout, delivery delays, streaming to disk;
- ``generate``: ``generate(out_dir, seed=...)``, the public entry point.

A pure library: nothing here imports ``grader`` outside ``grader/aws``.
"""
