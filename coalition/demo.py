"""The demo coalition: organizations across New York City, their people, a coordinator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from coalition.demo_digests import subscribe_demo_digests
from coalition.demo_listings import load_demo_listings
from coalition.models.organizations import Organization, OrgStatus, OrgType
from coalition.models.users import CoalitionRole, OrgRole, User
from coalition.security import hash_password
from coalition.sessions import Session

DEMO_PASSWORD = "coalition-demo-2026"
COORDINATOR_EMAIL = "coordinator@coalition.example.org"

# Fictional organizations at real neighborhood coordinates.
ORGANIZATIONS: list[dict[str, Any]] = [
    dict(
        slug="east-harlem-hrc",
        name="East Harlem Harm Reduction Collective",
        type=OrgType.SYRINGE_SERVICE_PROGRAM,
        borough="Manhattan",
        address="E 116th St & Lexington Ave, New York, NY",
        lat=40.7983,
        lon=-73.9415,
        people=[
            ("Maria Lopez", "maria.lopez"),
            ("James Carter", "james.carter"),
            ("Ana Rivera", "ana.rivera"),
        ],
    ),
    dict(
        slug="uptown-outreach",
        name="Uptown Outreach Partners",
        type=OrgType.OUTREACH_TEAM,
        borough="Manhattan",
        address="W 181st St & St Nicholas Ave, New York, NY",
        lat=40.8497,
        lon=-73.9352,
        people=[
            ("Luis Fernandez", "luis.fernandez"),
            ("Keisha Brown", "keisha.brown"),
            ("Tom O'Neill", "tom.oneill"),
        ],
    ),
    dict(
        slug="mott-haven-opc",
        name="Mott Haven Overdose Prevention Center",
        type=OrgType.OVERDOSE_PREVENTION_CENTER,
        borough="Bronx",
        address="E 138th St & Willis Ave, Bronx, NY",
        lat=40.8094,
        lon=-73.9237,
        people=[
            ("Denise Washington", "denise.washington"),
            ("Carlos Mendez", "carlos.mendez"),
            ("Priya Patel", "priya.patel"),
            ("Samuel Okafor", "samuel.okafor"),
        ],
    ),
    dict(
        slug="fordham-drop-in",
        name="Fordham Road Drop-In Center",
        type=OrgType.DROP_IN_CENTER,
        borough="Bronx",
        address="E Fordham Rd & Grand Concourse, Bronx, NY",
        lat=40.8622,
        lon=-73.8996,
        people=[
            ("Yolanda Ortiz", "yolanda.ortiz"),
            ("Marcus Reid", "marcus.reid"),
            ("Fatima Diallo", "fatima.diallo"),
        ],
    ),
    dict(
        slug="bushwick-health-exchange",
        name="Bushwick Community Health Exchange",
        type=OrgType.SYRINGE_SERVICE_PROGRAM,
        borough="Brooklyn",
        address="Myrtle Ave & Broadway, Brooklyn, NY",
        lat=40.6971,
        lon=-73.9353,
        people=[
            ("Rachel Kim", "rachel.kim"),
            ("Jorge Ramirez", "jorge.ramirez"),
            ("Aisha Johnson", "aisha.johnson"),
        ],
    ),
    dict(
        slug="sunset-park-clinic",
        name="Sunset Park Wellness Clinic",
        type=OrgType.CLINIC,
        borough="Brooklyn",
        address="5th Ave & 44th St, Brooklyn, NY",
        lat=40.6463,
        lon=-74.0101,
        people=[
            ("Dr. Wei Chen", "wei.chen"),
            ("Sofia Morales", "sofia.morales"),
            ("Kevin Murphy", "kevin.murphy"),
        ],
    ),
    dict(
        slug="jamaica-outreach",
        name="Jamaica Queens Outreach Network",
        type=OrgType.OUTREACH_TEAM,
        borough="Queens",
        address="Jamaica Ave & Parsons Blvd, Queens, NY",
        lat=40.7027,
        lon=-73.8003,
        people=[
            ("Tanya Singh", "tanya.singh"),
            ("Andre Baptiste", "andre.baptiste"),
            ("Grace Liu", "grace.liu"),
        ],
    ),
    dict(
        slug="north-shore-recovery",
        name="North Shore Recovery Alliance",
        type=OrgType.SYRINGE_SERVICE_PROGRAM,
        borough="Staten Island",
        address="Bay St & Victory Blvd, Staten Island, NY",
        lat=40.6368,
        lon=-74.0765,
        discreet_wording=True,
        people=[
            ("Michelle Russo", "michelle.russo"),
            ("David Cohen", "david.cohen"),
            ("Nia Thompson", "nia.thompson"),
        ],
    ),
    dict(
        slug="rockaway-peer-network",
        name="Rockaway Peninsula Peer Network",
        type=OrgType.OTHER,
        borough="Queens",
        status=OrgStatus.PENDING,
        address="Beach 20th St, Far Rockaway, NY",
        lat=40.6054,
        lon=-73.7551,
        people=[],
    ),
]


@dataclass
class DemoSummary:
    """What the demo loaded, for the command to print."""

    organizations: int = 0
    people: int = 0
    coordinator_email: str = COORDINATOR_EMAIL
    sample_members: list[str] = field(default_factory=list)
    orgs: list[Organization] = field(default_factory=list)
    listings: int = 0


def load_demo(session: Session) -> DemoSummary:
    """Insert the demo coalition; flush, never commit."""
    password_hash = hash_password(DEMO_PASSWORD)
    summary = DemoSummary()
    session.add(
        _person(
            "Coalition Coordinator",
            COORDINATOR_EMAIL,
            password_hash,
            None,
            coalition_role=CoalitionRole.COORDINATOR,
        )
    )
    for spec in ORGANIZATIONS:
        org = _organization(spec)
        session.add(org)
        session.flush()
        summary.orgs.append(org)
        summary.organizations += 1
        for index, (name, local) in enumerate(spec["people"]):
            email = f"{local}@{org.slug}.example.org"
            role = OrgRole.ORG_ADMIN if index == 0 else OrgRole.MEMBER
            session.add(_person(name, email, password_hash, org, org_role=role))
            summary.people += 1
            if index == 0 and len(summary.sample_members) < 3:
                summary.sample_members.append(email)
    session.flush()
    load_demo_listings(session, summary)
    subscribe_demo_digests(session, summary)
    return summary


def _organization(spec: dict[str, Any]) -> Organization:
    """An organization row from its demo spec."""
    values = {k: v for k, v in spec.items() if k != "people"}
    values.setdefault("status", OrgStatus.ACTIVE)
    values.setdefault("contact_email", f"info@{spec['slug']}.example.org")
    values.setdefault("contact_phone", "+1 212 555 0100")
    values.setdefault("service_radius_km", 30)
    return Organization(**values)


def _person(
    name: str, email: str, password_hash: str, org: Organization | None, **roles: Any
) -> User:
    """A user row."""
    return User(email=email, name=name, password_hash=password_hash, organization=org, **roles)
