"""A seeded organization whose activity the SIEM generator writes: accounts, people, roles,
CI, AWS services, networks and clients.

Everything a record shows about "who" and "from where" comes from here, so benign and
malicious records draw from the same pools and no value gives an attack away by itself.
Addresses are only from the documentation ranges (RFC 5737: 192.0.2.0/24, 198.51.100.0/24,
203.0.113.0/24; RFC 3849: 2001:db8::/32), never a real company's; the carve-up below
(office, VPN, carriers, CI runners) is made up. User agents follow the shapes the AWS SDKs,
the AWS CLI, Terraform and browsers send (the SDKs' "User agent" reference in the AWS SDKs
and Tools Reference Guide), with real-looking versions.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

USED_REGIONS = ("ap-northeast-1", "us-east-1")
# Regions nobody in the organization works in (CloudTrail still records calls there).
UNUSED_REGIONS = (
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "sa-east-1",
    "us-east-2",
    "us-west-2",
)
ALL_REGIONS = USED_REGIONS + UNUSED_REGIONS
DOMAIN = "example.co.jp"
JST = 9  # hours ahead of UTC; people work 09:00-19:00 JST

_JAPANESE = (
    ("Taro", "Yamada"),
    ("Hanako", "Sato"),
    ("Kenji", "Suzuki"),
    ("Yui", "Tanaka"),
    ("Daisuke", "Ito"),
    ("Aiko", "Watanabe"),
    ("Takumi", "Nakamura"),
    ("Misaki", "Kobayashi"),
    ("Ryo", "Kato"),
    ("Sakura", "Yoshida"),
    ("Haruto", "Yamamoto"),
    ("Emi", "Matsumoto"),
    ("Sho", "Inoue"),
    ("Nanami", "Kimura"),
    ("Kazuki", "Hayashi"),
    ("Mai", "Shimizu"),
    ("Yuto", "Yamaguchi"),
    ("Ayaka", "Mori"),
)
_OTHERS = (
    ("David", "Chen"),
    ("Priya", "Sharma"),
    ("Lucas", "Martin"),
    ("Sofia", "Garcia"),
    ("Minh", "Nguyen"),
    ("Olivia", "Brown"),
)
TEAMS = ("platform", "app", "data", "security")

# Clients. Versions are of mid/late 2025 releases; the CLI adds md/command#<svc>.<op>.
CLI_V2 = {
    "mac": (
        "aws-cli/2.27.{v} md/awscrt#0.26.1 ua/2.1 os/macos#24.5.0 md/arch#arm64 "
        "lang/python#3.13.4 md/pyimpl#CPython m/E,b cfg/retry-mode#standard "
        "md/installer#source md/prompt#off"
    ),
    "linux": (
        "aws-cli/2.27.{v} md/awscrt#0.26.1 ua/2.1 os/linux#6.8.0-60-generic md/arch#x86_64 "
        "lang/python#3.13.4 md/pyimpl#CPython m/E,b cfg/retry-mode#standard md/installer#exe "
        "md/distrib#ubuntu.24 md/prompt#off"
    ),
    "windows": (
        "aws-cli/2.27.{v} md/awscrt#0.26.1 ua/2.1 os/windows#10 md/arch#amd64 "
        "lang/python#3.13.4 md/pyimpl#CPython m/E,b cfg/retry-mode#standard "
        "md/installer#exe md/prompt#off"
    ),
}
# The CLI v1 from a Linux distribution's package: a few engineers use it, and so do
# intruders with stolen keys (GuardDuty's PenTest/UnusualUserAgent findings note that
# real intrusions come from stock CLIs), so it is no tell-tale by itself.
CLI_V1 = (
    "aws-cli/1.40.20 md/Botocore#1.38.21 ua/2.1 os/linux#6.8.0-60-generic md/arch#x86_64 "
    "lang/python#3.12.3 md/pyimpl#CPython m/b cfg/retry-mode#legacy botocore/1.38.21"
)
BOTO3 = (
    "Boto3/1.38.{v} md/Botocore#1.38.{v} ua/2.1 os/linux#6.1.141-155.222.amzn2023.x86_64 "
    "md/arch#x86_64 lang/python#3.12.11 md/pyimpl#CPython m/Z,b cfg/retry-mode#legacy "
    "Botocore/1.38.{v}"
)
BOTO3_LAMBDA = (
    "Boto3/1.38.{v} md/Botocore#1.38.{v} ua/2.1 os/linux#5.10.238-255.933.amzn2.x86_64 "
    "md/arch#x86_64 lang/python#3.12.11 md/pyimpl#CPython m/Z,b "
    "exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.38.{v}"
)
TERRAFORM = (
    "APN/1.0 HashiCorp/1.0 Terraform/1.12.2 (+https://www.terraform.io) "
    "terraform-provider-aws/6.2.0 (+https://registry.terraform.io/providers/hashicorp/aws) "
    "aws-sdk-go-v2/1.36.5 ua/2.1 os/linux lang/go#1.24.4 md/GOOS#linux md/GOARCH#amd64 "
    "api/{api} m/C,g"
)
JAVA_SDK = (
    "aws-sdk-java/2.31.63 Linux/5.10.237-230.949.amzn2.x86_64 "
    "OpenJDK_64-Bit_Server_VM/21.0.7+6-LTS Java/21.0.7 vendor/Amazon.com_Inc. md/internal "
    "exec-env/AWS_ECS_FARGATE io/sync http/Apache cfg/retry-mode/legacy"
)
GO_SDK = (
    "aws-sdk-go-v2/1.36.3 ua/2.1 os/linux lang/go#1.24.2 md/GOOS#linux md/GOARCH#amd64 "
    "api/{api} m/E"
)
BROWSERS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/138.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/138.0.0.0 Safari/537.36 Edg/138.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:140.0) Gecko/20100101 Firefox/140.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.5 Safari/605.1.15",
)
CONSOLE_INTERNAL = "AWS Internal"


@dataclass(frozen=True)
class Network:
    """A place people or machines call from: addresses, and where an IdP places them."""

    name: str
    addresses: tuple[str, ...]
    country: str = "Japan"
    city: str = "Tokyo"


@dataclass(frozen=True)
class Account:
    name: str  # prod, dev, security
    id: str


@dataclass
class Person:
    """Someone who signs in: through the IdP and IAM Identity Center (most), or as an IAM
    user with a long-term key and a console password (a few)."""

    first: str
    last: str
    team: str
    admin: bool
    network: Network  # where they usually work from
    browser: str
    cli: str
    start_hour: float  # local (JST) start of the working day
    iam_user: bool = False
    user_id: str = ""  # AIDA... when an IAM user
    access_key: str = ""  # AKIA... when an IAM user
    idp_id: str = ""  # the IdP's user id (00u...)

    @property
    def login(self) -> str:
        return f"{self.first.lower()}.{self.last.lower()}"

    @property
    def email(self) -> str:
        return f"{self.login}@{DOMAIN}"

    @property
    def display(self) -> str:
        return f"{self.first} {self.last}"


@dataclass(frozen=True)
class SsoRole:
    """An IAM Identity Center permission set's role in one account."""

    account: Account
    permission_set: str
    role_name: str  # AWSReservedSSO_<set>_<16 hex>
    role_id: str

    @property
    def arn(self) -> str:
        return (
            f"arn:aws:iam::{self.account.id}:role/aws-reserved/sso.amazonaws.com/"
            f"ap-northeast-1/{self.role_name}"
        )


@dataclass(frozen=True)
class Role:
    """An IAM role some workload or service assumes."""

    account: Account
    name: str
    role_id: str
    path: str = "/"

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account.id}:role{self.path}{self.name}"


@dataclass
class Organization:
    seed: int
    accounts: dict[str, Account]
    people: list[Person]
    sso_roles: dict[tuple[str, str], SsoRole]  # (account name, permission set)
    roles: dict[str, Role]
    networks: dict[str, Network]
    buckets: dict[str, list[str]]  # account name -> buckets
    repos: tuple[str, ...]
    github_org: str
    cli_v2: dict[str, str] = field(default_factory=dict)
    boto3: str = ""
    boto3_lambda: str = ""
    external_accounts: tuple[str, ...] = ()  # accounts outside the organization

    def person(self, login: str) -> Person:
        return next(p for p in self.people if p.login == login)


class Ids:
    """Identifiers in the shapes AWS and the IdP use, drawn from one seeded generator."""

    _UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def token(self, n: int, alphabet: str = _UPPER) -> str:
        choice = self.rng.choice
        return "".join(choice(alphabet) for _ in range(n))

    def uuid(self) -> str:
        x = f"{self.rng.getrandbits(128):032x}"
        return f"{x[:8]}-{x[8:12]}-4{x[13:16]}-{'89ab'[int(x[16], 16) & 3]}{x[17:20]}-{x[20:]}"

    def hex(self, n: int) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def account(self) -> str:
        return str(self.rng.randint(10**11, 10**12 - 1))


def _hosts(prefix: str, lo: int, hi: int) -> tuple[str, ...]:
    return tuple(f"{prefix}.{i}" for i in range(lo, hi + 1))


def _networks() -> dict[str, Network]:
    """The made-up carve-up of the documentation ranges (see the module docstring)."""
    return {
        "office-tokyo": Network("office-tokyo", _hosts("203.0.113", 10, 14)),
        "office-osaka": Network("office-osaka", _hosts("203.0.113", 70, 72), city="Osaka"),
        "vpn": Network("vpn", _hosts("198.51.100", 20, 29)),
        # Home and mobile carriers: IPv4 and IPv6 (2001:db8::/32) addresses.
        "carrier": Network(
            "carrier",
            _hosts("192.0.2", 30, 90)
            + tuple(f"2001:db8:4a1c:{i:x}00::{i + 7:x}" for i in range(1, 16)),
        ),
        # CI runners (hosted GitHub Actions runners), stand-ins from 198.51.100.128/25.
        "ci": Network(
            "ci", _hosts("198.51.100", 130, 190), country="United States", city="Boydton"
        ),
        # Addresses no one in the organization uses: where intruders come from.
        "elsewhere": Network(
            "elsewhere", _hosts("192.0.2", 180, 250), country="Netherlands", city="Amsterdam"
        ),
    }


def build_org(seed: int) -> Organization:
    """The organization for ``seed``: the same seed always gives the same organization."""
    rng = random.Random(f"siem/org/{seed}")
    ids = Ids(rng)
    accounts = {name: Account(name, ids.account()) for name in ("prod", "dev", "security")}
    networks = _networks()
    cli_v2 = {os: tmpl.format(v=rng.randint(30, 45)) for os, tmpl in CLI_V2.items()}
    boto_v = rng.randint(20, 40)
    names = list(_JAPANESE[:14]) + list(rng.sample(_JAPANESE[14:], 2)) + rng.sample(_OTHERS, 4)
    people: list[Person] = []
    for index, (first, last) in enumerate(names):
        team = TEAMS[index % len(TEAMS)]
        roll = rng.random()
        net = "office-tokyo" if roll < 0.55 else "office-osaka" if roll < 0.7 else "vpn"
        os_name = rng.choice(("mac", "mac", "mac", "windows", "linux"))
        person = Person(
            first=first,
            last=last,
            team=team,
            admin=index < 4,
            network=networks[net],
            browser=rng.choice(BROWSERS),
            cli=cli_v2[os_name],
            start_hour=rng.uniform(8.5, 10.5),
            idp_id="00u" + ids.token(17, "abcdefghijklmnopqrstuvwxyz0123456789"),
        )
        people.append(person)
    # A few keep IAM users (legacy integrations, a contractor, a break-glass admin).
    for person in (people[1], people[6], people[9], people[13]):
        person.iam_user = True
        person.user_id = "AIDA" + ids.token(17)
        person.access_key = "AKIA" + ids.token(16)
    # Two engineers use the distribution's CLI v1 on their Linux boxes.
    people[10].cli = CLI_V1
    people[15].cli = CLI_V1
    sso: dict[tuple[str, str], SsoRole] = {}
    for account in accounts.values():
        for pset in ("AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess", "SecurityAudit"):
            sso[(account.name, pset)] = SsoRole(
                account, pset, f"AWSReservedSSO_{pset}_{ids.hex(16)}", "AROA" + ids.token(17)
            )
    prod, dev, sec = accounts["prod"], accounts["dev"], accounts["security"]

    def role(account: Account, name: str, path: str = "/") -> Role:
        return Role(account, name, "AROA" + ids.token(17), path)

    roles = {
        "gha-deploy-prod": role(prod, "github-actions-deploy"),
        "gha-deploy-dev": role(dev, "github-actions-deploy"),
        "app-task": role(prod, "orders-api-task"),
        "app-task-dev": role(dev, "orders-api-task"),
        "lambda-exec": role(prod, "orders-events-handler"),
        "pipeline": role(prod, "data-pipeline-etl"),
        "cspm": role(sec, "security-posture-scanner"),
        "cspm-prod": role(prod, "security-posture-scanner"),
        "cspm-dev": role(dev, "security-posture-scanner"),
        "build-instance": role(dev, "build-runner-instance"),
        "autoscaling-prod": role(
            prod, "AWSServiceRoleForAutoScaling", "/aws-service-role/autoscaling.amazonaws.com/"
        ),
        "config-prod": role(
            prod, "AWSServiceRoleForConfig", "/aws-service-role/config.amazonaws.com/"
        ),
        "config-dev": role(
            dev, "AWSServiceRoleForConfig", "/aws-service-role/config.amazonaws.com/"
        ),
    }
    suffix = ids.hex(6)
    buckets = {
        "prod": [
            f"orders-customer-exports-{suffix}",
            f"orders-app-assets-{suffix}",
            f"datalake-raw-{suffix}",
            f"datalake-curated-{suffix}",
        ],
        "dev": [f"orders-dev-artifacts-{suffix}", f"build-cache-{suffix}"],
        "security": [f"org-cloudtrail-logs-{suffix}", f"config-history-{suffix}"],
    }
    github_org = rng.choice(("example-co-jp", "exampleco-eng", "example-jp"))
    external = tuple(ids.account() for _ in range(3))
    return Organization(
        seed=seed,
        accounts=accounts,
        people=people,
        sso_roles=sso,
        roles=roles,
        networks=networks,
        buckets=buckets,
        repos=("orders-api", "orders-web", "infra-live", "data-pipelines"),
        github_org=github_org,
        cli_v2=cli_v2,
        boto3=BOTO3.format(v=boto_v),
        boto3_lambda=BOTO3_LAMBDA.format(v=boto_v),
        external_accounts=external,
    )
