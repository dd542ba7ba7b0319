"""lab3's hidden inputs: the instances a run's requests name, made up from its seed.

The team's dev instances, its other instances (prod, staging, a look-alike tag, no tag) and
dev instances elsewhere (another account, another Region): a policy that lists instance IDs
cannot pass, and one that forgets the account, the Region or the exact tag value lets a
look-alike in.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from grader.aws.iam import Request

ACCOUNT = "123456789012"  # the team's account, as in data/inventory.json
REGION = "ap-northeast-1"


@dataclass(frozen=True)
class Instance:
    id: str
    account: str
    region: str
    environment: str | None

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
        return f"{self.id} ({tag}{where})"


def _instance_id(rng: random.Random) -> str:
    return "i-0" + "".join(rng.choice("0123456789abcdef") for _ in range(16))


def make_fleet(seed: int) -> dict[str, list[Instance]]:
    """Hidden instances for this run: the team's dev and other instances, and look-alikes
    elsewhere (a dev instance in another account, in another region)."""
    rng = random.Random(seed)
    other_account = str(rng.randrange(10**11, 10**12))
    other_region = rng.choice(["us-east-1", "eu-west-1", "ap-northeast-3", "ap-southeast-2"])
    mine = lambda env: Instance(_instance_id(rng), ACCOUNT, REGION, env)  # noqa: E731
    return {
        "dev": [mine("dev") for _ in range(3)],
        "other": [mine(env) for env in ("prod", "prod", "staging", "development", None)],
        "elsewhere": [
            Instance(_instance_id(rng), other_account, REGION, "dev"),
            Instance(_instance_id(rng), ACCOUNT, other_region, "dev"),
        ],
    }
