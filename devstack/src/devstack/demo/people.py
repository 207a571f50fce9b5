"""Who takes part: users with names, passwords and browsers, and an attacker."""

import random
from dataclasses import dataclass

FIRST_NAMES = (
    "ada", "alan", "grace", "edsger", "barbara", "donald", "margaret", "ken",
    "radia", "tim", "frances", "john", "sophie", "linus", "hedy", "dennis",
    "katherine", "niklaus", "shafi", "leslie",
)  # fmt: skip
LAST_NAMES = (
    "lovelace", "turing", "hopper", "dijkstra", "liskov", "knuth", "hamilton",
    "thompson", "perlman", "berners-lee", "allen", "backus", "wilson",
    "torvalds", "lamarr", "ritchie", "johnson", "wirth", "goldwasser", "lamport",
)  # fmt: skip
WORDS = (
    "amber", "falcon", "river", "quartz", "meadow", "lantern", "harbour",
    "violet", "copper", "glacier", "orchid", "thunder", "saffron", "willow",
    "ember", "cobalt", "juniper", "tundra", "marble", "zephyr",
)  # fmt: skip
BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
)
ATTACKER_AGENT = "python-requests/2.32.3"
USER_DOMAIN = "example.com"
LEAKED_DOMAINS = ("example.net", "example.org")


@dataclass
class Persona:
    name: str
    email: str
    password: str
    user_agent: str


def cast(rng: random.Random, count: int, tag: str) -> list[Persona]:
    """``count`` users with distinct addresses carrying ``tag``."""
    people: list[Persona] = []
    for index in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        people.append(
            Persona(
                name=f"{first.title()} {last.title()}",
                email=f"{first}.{last}.{tag}{index}@{USER_DOMAIN}",
                password=new_password(rng),
                user_agent=rng.choice(BROWSERS),
            )
        )
    return people


def leaked_addresses(rng: random.Random, count: int, tag: str) -> list[str]:
    """Addresses from someone else's breach: mostly not registered here."""
    return [
        f"{rng.choice(FIRST_NAMES)}{rng.randint(1, 99)}.{tag}{index}"
        f"@{rng.choice(LEAKED_DOMAINS)}"
        for index in range(count)
    ]


def new_password(rng: random.Random) -> str:
    return "-".join([*rng.sample(WORDS, 3), str(rng.randint(10, 99))])


def mistyped(password: str, rng: random.Random) -> str:
    """The password with two neighbouring characters swapped, or one dropped."""
    at = rng.randrange(len(password) - 1)
    swapped = password[:at] + password[at + 1] + password[at] + password[at + 2 :]
    return swapped if swapped != password else password[:-1]


def guessed_password(rng: random.Random) -> str:
    """What a credential list offers: someone's password from another site."""
    return f"{rng.choice(WORDS).title()}{rng.randint(1970, 2009)}!"
