"""`synthetic:USERS:GROUPS:MEMBERSHIPS`: a large deterministic tenant with realistic shape.

Names and departments from small lists, a management tree, licenses direct and through groups, some
nested security groups (only where Graph allows them), and a long-tailed (Zipf) group-size distribution:
a few groups hold 10,000+ members. Sign-ins: most users signed in within the last two months, about one in
eight has been dormant for over 90 days and one in twelve never signed in.
"""

from __future__ import annotations

import dataclasses
import random
import uuid

from reconciler.emulator import skus
from reconciler.emulator.objects import new_group, new_user
from reconciler.emulator.signins import DAY_S
from reconciler.emulator.tenant import CREATED, DOMAINS, empty_seed
from reconciler.emulator.types import Json, SeedData, SignInAges

FIRST = [
    "Ada",
    "Alan",
    "Alex",
    "Amara",
    "Amber",
    "Ana",
    "Ben",
    "Bianca",
    "Carlos",
    "Chen",
    "Chloe",
    "Dana",
    "David",
    "Diego",
    "Elena",
    "Emil",
    "Emma",
    "Farah",
    "Felix",
    "Grace",
    "Hana",
    "Hugo",
    "Ines",
    "Isaac",
    "Ivy",
    "Jonas",
    "Julia",
    "Kai",
    "Karim",
    "Kenji",
    "Lara",
    "Leo",
    "Lina",
    "Luca",
    "Maya",
    "Mei",
    "Mia",
    "Nadia",
    "Noah",
    "Nora",
    "Omar",
    "Oscar",
    "Paula",
    "Pedro",
    "Priya",
    "Quinn",
    "Rafael",
    "Rosa",
    "Sam",
    "Sara",
    "Sofia",
    "Tariq",
    "Theo",
    "Uma",
    "Victor",
    "Wei",
    "Yara",
    "Yusuf",
    "Zara",
    "Zoe",
]
LAST = [
    "Abbott",
    "Adams",
    "Ahmed",
    "Alvarez",
    "Bakker",
    "Brown",
    "Chen",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Gupta",
    "Hansen",
    "Ito",
    "Jansen",
    "Johnson",
    "Kim",
    "Kowalski",
    "Larsen",
    "Lee",
    "Lopez",
    "Martin",
    "Meyer",
    "Moreau",
    "Muller",
    "Nakamura",
    "Novak",
    "Olsen",
    "Patel",
    "Perez",
    "Rossi",
    "Santos",
    "Schmidt",
    "Silva",
    "Smith",
    "Sato",
    "Tanaka",
    "Taylor",
    "Thomas",
    "Wang",
    "Weber",
    "Wilson",
    "Wong",
    "Yamamoto",
    "Young",
    "Zhang",
]
DEPARTMENTS = {
    "Engineering": ("Software Engineer", "Senior Software Engineer", "Engineering Manager", "SRE"),
    "Sales": ("Account Executive", "Sales Manager", "Sales Development Representative"),
    "Marketing": ("Marketing Manager", "Content Strategist", "Brand Designer"),
    "Finance": ("Financial Analyst", "Accountant", "Controller"),
    "People": ("HR Business Partner", "Recruiter", "Payroll Specialist"),
    "Support": ("Support Engineer", "Support Lead"),
    "Operations": ("Operations Analyst", "Facilities Coordinator"),
    "Legal": ("Counsel", "Paralegal"),
}
LOCATIONS = ("US", "GB", "DE", "FR", "IN", "JP", "BR", "NL")
GROUP_WORDS = ("Project", "Team", "Guild", "Squad", "Committee", "Program", "Chapter", "Working Group")
TOPICS = [
    "Apollo",
    "Atlas",
    "Borealis",
    "Cobalt",
    "Delta",
    "Ember",
    "Falcon",
    "Granite",
    "Helios",
    "Indigo",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Meridian",
    "Nimbus",
    "Onyx",
    "Polaris",
    "Quartz",
    "Radiant",
    "Sierra",
    "Tundra",
    "Umbra",
    "Vega",
    "Willow",
    "Xenon",
    "Yonder",
    "Zenith",
]


def synthetic_seed(user_count: int, group_count: int, membership_count: int) -> SeedData:
    rng = random.Random(f"synthetic:{user_count}:{group_count}:{membership_count}")
    departments = list(DEPARTMENTS)
    users = []
    managers: list[tuple[str, str]] = []
    licenses: list[tuple[str, str, list[str]]] = []
    license_skus = (skus.ENTERPRISEPACK, skus.SPE_E5)
    for n in range(user_count):
        given, surname = rng.choice(FIRST), rng.choice(LAST)
        department = departments[n % len(departments)]
        upn = f"{given.lower()}.{surname.lower()}{n}@{DOMAINS[0]}"
        user_id = seeded_uuid(rng)
        props = {
            "userPrincipalName": upn,
            "displayName": f"{given} {surname}",
            "givenName": given,
            "surname": surname,
            "mail": upn,
            "department": department,
            "jobTitle": rng.choice(DEPARTMENTS[department]),
            "usageLocation": rng.choice(LOCATIONS),
            "employeeId": f"E{n:07d}",
            "companyName": "Contoso",
            "officeLocation": f"Building {n % 40 + 1}",
        }
        users.append(new_user(user_id, CREATED, props))
        if n:
            # Managers are earlier users, so the reporting lines form a tree rooted at user 0.
            managers.append((user_id, users[rng.randrange(0, max(1, n // 10))]["id"]))
        if n % 10 < 7:
            licenses.append((user_id, license_skus[n % 10 % 2], []))
    groups = []
    for n in range(group_count):
        name = f"{rng.choice(TOPICS)} {rng.choice(GROUP_WORDS)} {n}"
        group_props: Json = {"displayName": name, "groupTypes": ["Unified"] if _is_unified(n) else []}
        groups.append(new_group(seeded_uuid(rng), CREATED, DOMAINS[0], group_props))
    if groups:
        groups[0]["displayName"] = "All Employees EMS"
        groups[0]["assignedLicenses"] = [{"disabledPlans": [], "skuId": skus.EMSPREMIUM}]
        groups[0]["licenseProcessingState"] = {"state": "ProcessingComplete"}
    members = _memberships(rng, users, groups, membership_count)
    owners = [(g["id"], users[rng.randrange(user_count)]["id"]) for g in groups] if users else []
    seats = {
        "ENTERPRISEPACK": user_count // 2 + 100,
        "SPE_E5": user_count // 2 + 100,
        "EMSPREMIUM": user_count + 100,
    }
    return dataclasses.replace(
        empty_seed(seats),
        users=users,
        groups=groups,
        members=members,
        owners=owners,
        managers=managers,
        licenses=licenses,
        sign_ins=_sign_ins(random.Random(f"sign-ins:{user_count}"), users),
    )


def _sign_ins(rng: random.Random, users: list[Json]) -> dict[str, SignInAges]:
    """Last sign-ins from an RNG of their own, so that adding them left the rest of the tenant as it was."""
    ages: dict[str, SignInAges] = {}
    for user in users:
        draw = rng.random()
        if draw < 1 / 12:
            continue  # never signed in
        dormant = draw < 1 / 12 + 1 / 8
        interactive = rng.randrange(91 * DAY_S, 540 * DAY_S) if dormant else rng.randrange(60 * DAY_S)
        background = rng.randrange(interactive // 2, interactive + 1)
        ages[str(user["id"])] = SignInAges(
            interactive, max(background, 91 * DAY_S) if dormant else background
        )
    return ages


def seeded_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _memberships(
    rng: random.Random, users: list[dict[str, object]], groups: list[dict[str, object]], total: int
) -> list[tuple[str, str]]:
    """`total` user memberships in Zipf-sized groups, plus a few nested groups (a DAG: parents first)."""
    if not users or not groups:
        return []
    cap = max(1, len(users) * 9 // 10)
    weights = [1.0 / (k + 1) for k in range(len(groups))]
    scale = total / sum(weights)
    sizes = [min(cap, int(w * scale)) for w in weights]
    remainder = total - sum(sizes)
    index = 0
    while remainder > 0 and any(s < cap for s in sizes):
        if sizes[index % len(sizes)] < cap:
            sizes[index % len(sizes)] += 1
            remainder -= 1
        index += 1
    user_ids = [str(u["id"]) for u in users]
    edges: list[tuple[str, str]] = []
    for group, size in zip(groups, sizes, strict=True):
        group_id = str(group["id"])
        edges.extend((group_id, user_ids[i]) for i in rng.sample(range(len(user_ids)), size))
    # Graph nests groups only in security groups that are not role-assignable, and never a Microsoft 365
    # group (member_types): parent and child are both security groups, the child later than the parent.
    for base in range(0, len(groups), 50):
        parent = base + _FIRST_SECURITY
        first, end = _security_rank(parent + 1), _security_rank(len(groups))
        for rank in rng.sample(range(first, end), min(2, max(0, end - first))):
            edges.append((str(groups[parent]["id"]), str(groups[_security_index(rank)]["id"])))
    return edges


# Groups n with n % 10 < 3 are Microsoft 365 groups, the rest security groups.
_FIRST_SECURITY = 3
_SECURITY_PER_TEN = 10 - _FIRST_SECURITY


def _is_unified(n: int) -> bool:
    return n % 10 < _FIRST_SECURITY


def _security_rank(n: int) -> int:
    """How many security groups come before group n."""
    return n // 10 * _SECURITY_PER_TEN + max(0, n % 10 - _FIRST_SECURITY)


def _security_index(rank: int) -> int:
    """The index of the security group that has `rank` security groups before it."""
    return rank // _SECURITY_PER_TEN * 10 + _FIRST_SECURITY + rank % _SECURITY_PER_TEN
