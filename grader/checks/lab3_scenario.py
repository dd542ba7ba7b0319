"""lab3's hidden inputs: the instances a run's requests name, made up from its seed.

The team's dev instances, its other instances (prod, staging, no tag, and tags that look
like dev: ``Dev``, ``DEV``, ``xdev``, ``dev-old``, ``dav``, ``development``) and dev
instances elsewhere (another account and the accounts one digit away, another Region and
the Regions next to the team's): a policy that lists instance IDs cannot pass, and one that
forgets the account, the Region or the exact tag value, or matches them with a wildcard or
while ignoring case, lets a look-alike in.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from grader.aws.iam import Request
from grader.checks._support import account_neighbours, look_alikes, region_neighbours

ACCOUNT = "123456789012"  # the team's account, as in data/inventory.json
REGION = "ap-northeast-1"
DEV = "dev"  # the Environment tag value the operator may act on
# Tag values people really use next to dev (the look-alikes a loosened match lets in are
# generated from the seed: see look_alikes).
NEAR_DEV = ("development",)


@dataclass(frozen=True)
class Instance:
    id: str
    account: str
    region: str
    environment: str | None
    note: str = ""  # how a look-alike differs from what the operator may touch

    @property
    def arn(self) -> str:
        return f"arn:aws:ec2:{self.region}:{self.account}:instance/{self.id}"

    def request(self, action: str, **extra: object) -> Request:
        """A request on this instance, with the context keys EC2 sends for its tags."""
        context: dict[str, object] = {
            "aws:RequestedRegion": self.region,
            "ec2:Region": self.region,
            "aws:PrincipalAccount": ACCOUNT,
            "aws:ResourceAccount": self.account,
        }
        if self.environment is not None:
            context["aws:ResourceTag/Environment"] = self.environment
            context["ec2:ResourceTag/Environment"] = self.environment
        context.update(extra)
        return Request(action=action, resource=self.arn, context=context)

    def describe(self) -> str:
        tag = f"Environment={self.environment}" if self.environment else "no Environment tag"
        where = (
            ""
            if (self.account, self.region) == (ACCOUNT, REGION)
            else f" in {self.account}/{self.region}"
        )
        note = f", {self.note}" if self.note else ""
        return f"{self.id} ({tag}{where}{note})"


def _instance_id(rng: random.Random) -> str:
    return "i-0" + "".join(rng.choice("0123456789abcdef") for _ in range(16))


def make_fleet(seed: int) -> dict[str, list[Instance]]:
    """Hidden instances for this run: the team's dev instances; its other instances (prod,
    staging, no tag, and tags that look like dev); and dev instances elsewhere (another
    account and its neighbours, another Region and the team's Region's neighbours)."""
    rng = random.Random(seed)
    other_account = str(rng.randrange(10**11, 10**12))
    other_region = rng.choice(["us-east-1", "eu-west-1", "ap-northeast-3", "ap-southeast-2"])
    mine = lambda env, note="": Instance(_instance_id(rng), ACCOUNT, REGION, env, note)  # noqa: E731
    tags = [(env, "") for env in ("prod", "prod", "staging", None)]
    tags += [(env, f"not {DEV}: a tag value in use") for env in NEAR_DEV]
    tags += [(env, f"not {DEV}: {why}") for env, why in look_alikes(DEV, rng)]
    accounts = [(other_account, "another account")] + account_neighbours(ACCOUNT, rng)
    regions = [(other_region, "another Region")] + region_neighbours(REGION, rng)
    return {
        "dev": [mine(DEV) for _ in range(3)],
        "other": [mine(env, note) for env, note in tags],
        "elsewhere": [
            *(Instance(_instance_id(rng), a, REGION, DEV, why) for a, why in accounts),
            *(
                Instance(_instance_id(rng), ACCOUNT, r, DEV, why)
                for r, why in dict(regions).items()
            ),
        ],
    }
