"""The MITRE ATT&CK techniques a CloudTrail detection can name, and checking a technique ID.

Source: MITRE ATT&CK Enterprise 16.1 and 17.1, https://attack.mitre.org/ -- every entry's ID,
name and tactics checked on 2026-12-03 against attack.mitre.org's technique pages and the Center
for Threat-Informed Defense's Mappings Explorer pages for 16.1 and 17.1
(center-for-threat-informed-defense.github.io/mappings-explorer/attack/attack-17.1/
domain-enterprise/techniques/<ID>); none is revoked or deprecated in either. The techniques and
sub-techniques whose platforms include IaaS, SaaS, Identity Provider or Office Suite (v16's
names for the cloud platforms) and that activity recorded by CloudTrail (or an identity
provider's sign-in log, for correlation) can show. Names and tactics as ATT&CK 16/17 give them;
tactics by their ATT&CK short names (later releases split defense-evasion; not followed here).
Endpoint-only techniques are left out on purpose: a CloudTrail detection that names one has
picked the wrong technique.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from ..errors import GraderError

_IA, _EX, _PE = "initial-access", "execution", "persistence"
_PR, _DE, _CA = "privilege-escalation", "defense-evasion", "credential-access"
_DI, _LM, _CO = "discovery", "lateral-movement", "collection"
_EF, _IM = "exfiltration", "impact"

# id -> (name, tactics). A sub-technique's name is its own; ``full_name`` prefixes the parent.
TECHNIQUES: dict[str, tuple[str, tuple[str, ...]]] = {
    # Initial access
    "T1078": ("Valid Accounts", (_IA, _PE, _PR, _DE)),
    "T1078.001": ("Default Accounts", (_IA, _PE, _PR, _DE)),
    "T1078.004": ("Cloud Accounts", (_IA, _PE, _PR, _DE)),
    "T1190": ("Exploit Public-Facing Application", (_IA,)),
    "T1199": ("Trusted Relationship", (_IA,)),
    "T1566": ("Phishing", (_IA,)),
    "T1566.002": ("Spearphishing Link", (_IA,)),
    # Execution
    "T1059": ("Command and Scripting Interpreter", (_EX,)),
    "T1059.009": ("Cloud API", (_EX,)),
    "T1204": ("User Execution", (_EX,)),
    "T1204.003": ("Malicious Image", (_EX,)),
    "T1648": ("Serverless Execution", (_EX,)),
    "T1651": ("Cloud Administration Command", (_EX,)),
    # Persistence and privilege escalation
    "T1098": ("Account Manipulation", (_PE, _PR)),
    "T1098.001": ("Additional Cloud Credentials", (_PE, _PR)),
    "T1098.002": ("Additional Email Delegate Permissions", (_PE, _PR)),
    "T1098.003": ("Additional Cloud Roles", (_PE, _PR)),
    "T1098.005": ("Device Registration", (_PE, _PR)),
    "T1136": ("Create Account", (_PE,)),
    "T1136.003": ("Cloud Account", (_PE,)),
    "T1525": ("Implant Internal Image", (_PE,)),
    "T1556": ("Modify Authentication Process", (_CA, _DE, _PE)),
    "T1556.006": ("Multi-Factor Authentication", (_CA, _DE, _PE)),
    "T1556.007": ("Hybrid Identity", (_CA, _DE, _PE)),
    "T1556.009": ("Conditional Access Policies", (_CA, _DE, _PE)),
    "T1484": ("Domain or Tenant Policy Modification", (_DE, _PR)),
    "T1484.002": ("Trust Modification", (_DE, _PR)),
    "T1548": ("Abuse Elevation Control Mechanism", (_PR, _DE)),
    "T1548.005": ("Temporary Elevated Cloud Access", (_PR, _DE)),
    # Defense evasion
    "T1535": ("Unused/Unsupported Cloud Regions", (_DE,)),
    "T1550": ("Use Alternate Authentication Material", (_DE, _LM)),
    "T1550.001": ("Application Access Token", (_DE, _LM)),
    "T1550.004": ("Web Session Cookie", (_DE, _LM)),
    "T1562": ("Impair Defenses", (_DE,)),
    "T1562.001": ("Disable or Modify Tools", (_DE,)),
    "T1562.007": ("Disable or Modify Cloud Firewall", (_DE,)),
    "T1562.008": ("Disable or Modify Cloud Logs", (_DE,)),
    "T1578": ("Modify Cloud Compute Infrastructure", (_DE,)),
    "T1578.001": ("Create Snapshot", (_DE,)),
    "T1578.002": ("Create Cloud Instance", (_DE,)),
    "T1578.003": ("Delete Cloud Instance", (_DE,)),
    "T1578.004": ("Revert Cloud Instance", (_DE,)),
    "T1578.005": ("Modify Cloud Compute Configurations", (_DE,)),
    "T1666": ("Modify Cloud Resource Hierarchy", (_DE,)),
    # Credential access
    "T1110": ("Brute Force", (_CA,)),
    "T1110.001": ("Password Guessing", (_CA,)),
    "T1110.003": ("Password Spraying", (_CA,)),
    "T1110.004": ("Credential Stuffing", (_CA,)),
    "T1528": ("Steal Application Access Token", (_CA,)),
    "T1539": ("Steal Web Session Cookie", (_CA,)),
    "T1552": ("Unsecured Credentials", (_CA,)),
    "T1552.001": ("Credentials In Files", (_CA,)),
    "T1552.005": ("Cloud Instance Metadata API", (_CA,)),
    "T1552.008": ("Chat Messages", (_CA,)),
    "T1555": ("Credentials from Password Stores", (_CA,)),
    "T1555.006": ("Cloud Secrets Management Stores", (_CA,)),
    "T1606": ("Forge Web Credentials", (_CA,)),
    "T1606.002": ("SAML Tokens", (_CA,)),
    "T1621": ("Multi-Factor Authentication Request Generation", (_CA,)),
    # Discovery
    "T1069": ("Permission Groups Discovery", (_DI,)),
    "T1069.003": ("Cloud Groups", (_DI,)),
    "T1087": ("Account Discovery", (_DI,)),
    "T1087.003": ("Email Account", (_DI,)),
    "T1087.004": ("Cloud Account", (_DI,)),
    "T1201": ("Password Policy Discovery", (_DI,)),
    "T1518": ("Software Discovery", (_DI,)),
    "T1518.001": ("Security Software Discovery", (_DI,)),
    "T1526": ("Cloud Service Discovery", (_DI,)),
    "T1538": ("Cloud Service Dashboard", (_DI,)),
    "T1580": ("Cloud Infrastructure Discovery", (_DI,)),
    "T1619": ("Cloud Storage Object Discovery", (_DI,)),
    "T1654": ("Log Enumeration", (_DI,)),
    # Lateral movement
    "T1021": ("Remote Services", (_LM,)),
    "T1021.007": ("Cloud Services", (_LM,)),
    # Collection and exfiltration
    "T1119": ("Automated Collection", (_CO,)),
    "T1530": ("Data from Cloud Storage", (_CO,)),
    "T1020": ("Automated Exfiltration", (_EF,)),
    "T1020.001": ("Traffic Duplication", (_EF,)),
    "T1537": ("Transfer Data to Cloud Account", (_EF,)),
    # Impact
    "T1485": ("Data Destruction", (_IM,)),
    "T1485.001": ("Lifecycle-Triggered Deletion", (_IM,)),
    "T1486": ("Data Encrypted for Impact", (_IM,)),
    "T1490": ("Inhibit System Recovery", (_IM,)),
    "T1491": ("Defacement", (_IM,)),
    "T1491.002": ("External Defacement", (_IM,)),
    "T1496": ("Resource Hijacking", (_IM,)),
    "T1496.001": ("Compute Hijacking", (_IM,)),
    "T1496.002": ("Bandwidth Hijacking", (_IM,)),
    "T1496.003": ("SMS Pumping", (_IM,)),
    "T1496.004": ("Cloud Service Hijacking", (_IM,)),
    "T1498": ("Network Denial of Service", (_IM,)),
    "T1499": ("Endpoint Denial of Service", (_IM,)),
    "T1531": ("Account Access Removal", (_IM,)),
    "T1657": ("Financial Theft", (_IM,)),
}

_FORM = re.compile(r"^T\d{4}(\.\d{3})?$")


class TechniqueError(GraderError):
    """A technique ID that is not one of ``TECHNIQUES``, or not written as ATT&CK writes it."""


@dataclass(frozen=True)
class Technique:
    """One ATT&CK technique or sub-technique."""

    id: str
    name: str
    tactics: tuple[str, ...]

    @property
    def parent(self) -> str | None:
        """The technique a sub-technique belongs to (``T1078`` for ``T1078.004``)."""
        return self.id.split(".")[0] if "." in self.id else None

    @property
    def full_name(self) -> str:
        """``Valid Accounts: Cloud Accounts``, as ATT&CK titles a sub-technique."""
        if self.parent is None:
            return self.name
        return f"{TECHNIQUES[self.parent][0]}: {self.name}"

    @property
    def url(self) -> str:
        return "https://attack.mitre.org/techniques/" + self.id.replace(".", "/") + "/"


def technique(technique_id: str) -> Technique:
    """The technique ``technique_id`` names, written exactly as ATT&CK writes it
    (``T1078.004``); anything else is a ``TechniqueError`` that says what to write."""
    text = str(technique_id)
    if text in TECHNIQUES:
        name, tactics = TECHNIQUES[text]
        return Technique(text, name, tactics)
    fixed = text.strip().upper().replace("/", ".")
    if fixed in TECHNIQUES:
        raise TechniqueError(
            f"technique {text!r} is written {fixed!r} in ATT&CK (a capital T, four digits, "
            "and a dot before a sub-technique's three)"
        )
    if not _FORM.match(fixed):
        raise TechniqueError(
            f"{text!r} is not an ATT&CK technique ID; they look like T1078 or T1078.004"
        )
    close = difflib.get_close_matches(fixed, TECHNIQUES, n=3, cutoff=0.8)
    parent = fixed.split(".")[0]
    hint = ""
    if "." in fixed and parent in TECHNIQUES:
        subs = sorted(k for k in TECHNIQUES if k.startswith(parent + "."))
        listed = ", ".join(f"{k} ({TECHNIQUES[k][0]})" for k in subs)
        hint = f"; {parent} ({TECHNIQUES[parent][0]}) has " + (listed or "no cloud sub-technique")
    elif close:
        hint = "; did you mean " + " or ".join(f"{k} ({TECHNIQUES[k][0]})" for k in close) + "?"
    raise TechniqueError(
        f"{fixed} is not a technique of ATT&CK's cloud platforms (IaaS, SaaS, Identity "
        f"Provider, Office Suite) that CloudTrail can show{hint}"
    )


def is_technique(technique_id: str) -> bool:
    """Whether ``technique_id`` is exactly one of ``TECHNIQUES``."""
    return technique_id in TECHNIQUES
