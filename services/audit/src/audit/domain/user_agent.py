"""A short, human name for a User-Agent string: "Mobile Safari", "Chrome on Windows"."""

import re

# Order matters: Edge and Opera also claim Chrome, Chrome also claims Safari.
_BROWSERS = (
    ("Edge", re.compile(r"\bEdg(?:e|A|iOS)?/")),
    ("Opera", re.compile(r"\bOPR/|\bOpera\b")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/")),
    ("Chrome", re.compile(r"\b(?:Chrome|CriOS)/")),
    ("Safari", re.compile(r"\bVersion/[\d.]+.*\bSafari/")),
)
_SYSTEMS = (
    ("iOS", re.compile(r"\biPhone|\biPad|\biPod")),
    ("Android", re.compile(r"\bAndroid\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("Linux", re.compile(r"\bLinux\b")),
)
_PRODUCT = re.compile(r"^([A-Za-z][\w.-]{0,40})(?:/([\w.]{1,20}))?")
_MOBILE = re.compile(r"\bMobile\b|\biPhone\b|\bAndroid\b.*\bMobile\b")


def describe_user_agent(user_agent: str | None) -> str | None:
    """A name a support person can read out, or None when there is no agent."""
    if not user_agent or not user_agent.strip():
        return None
    browser = next((name for name, rx in _BROWSERS if rx.search(user_agent)), None)
    system = next((name for name, rx in _SYSTEMS if rx.search(user_agent)), None)
    if browser is None:
        match = _PRODUCT.match(user_agent.strip())
        return match[1] if match and match[1] != "Mozilla" else "an unknown client"
    if browser == "Safari" and _MOBILE.search(user_agent):
        return "Mobile Safari"
    if _MOBILE.search(user_agent) and system in {"iOS", "Android"}:
        return f"{browser} on {system} (mobile)"
    return f"{browser} on {system}" if system else browser
