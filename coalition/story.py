"""A match told in plain words: why it was proposed, where it stands, who is waited for.

Everything here reads what the engine stored (`Match.explanation`) and the match's own
timestamps, and returns sentences in the reader's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext, ngettext

from coalition.matching.value import SHORT_DATED_DAYS

NEED = {
    "critical": lambda: gettext("Critical need"),
    "high": lambda: gettext("High need"),
    "normal": lambda: gettext("Normal need"),
    "low": lambda: gettext("Low urgency"),
}
TOO_FAR = re.compile(r"too far \((?P<km>[\d.]+) km > (?P<limit>[\d.]+) km\)")
MISSING = re.compile(r"missing credentials? (?P<names>.+)")
NOT_ELIGIBLE = re.compile(r"not eligible: no (?P<what>.+) on file")


def distance_words(km: float | None, remote: bool = False) -> str:
    """'8 km away', 'less than 1 km away', 'remote'."""
    if remote:
        return gettext("remote work")
    if km is None:
        return ""
    if km < 1:
        return gettext("less than 1 km away")
    return gettext("%(km)s km away", km=round(km))


def expiry_sentence(days: int | None) -> str:
    """What the lot's expiry means for this transfer."""
    if days is None:
        return ""
    if days < 0:
        return gettext("This lot has already expired; the request accepts expired stock.")
    if days <= SHORT_DATED_DAYS:
        return ngettext(
            "This lot expires in %(num)d day, so moving it now avoids waste.",
            "This lot expires in %(num)d days, so moving it now avoids waste.",
            days,
        )
    return ngettext("This lot expires in %(num)d day.", "This lot expires in %(num)d days.", days)


def passed_over_reason(alternative: dict[str, Any]) -> str:
    """Why one alternative was not chosen, from the engine's stored reason."""
    reason = str(alternative.get("reason") or "")
    if found := TOO_FAR.fullmatch(reason):
        return gettext("one was %(km)s km away, too far", km=round(float(found["km"])))
    if found := MISSING.fullmatch(reason):
        return gettext("one lacks the credential %(names)s", names=found["names"])
    if found := NOT_ELIGIBLE.fullmatch(reason):
        return gettext("one is not eligible: no %(what)s on file", what=gettext(found["what"]))
    fixed = {
        "already expired": lambda: gettext("one has already expired"),
        "expires before need-by": lambda: gettext("one expires before the need-by date"),
        "no shared language": lambda: gettext("one shares no language with the request"),
        "no overlapping hours": lambda: gettext("one has no hours in common"),
        "no capacity left": lambda: gettext("one is already promised elsewhere"),
        "same organization": lambda: gettext("one belongs to the same organization"),
    }
    if reason in fixed:
        return fixed[reason]()
    if reason.startswith("same value"):
        return gettext("one was an equally good fit")
    km = alternative.get("distance_km")
    if km is not None:
        return gettext("one was a weaker fit (%(distance)s)", distance=distance_words(km))
    return gettext("one was a weaker fit")


def alternatives_sentence(alternatives: list[dict[str, Any]]) -> str:
    """'Two other options were passed over: one was 31 km away, too far; …'."""
    if not alternatives:
        return ""
    reasons = "; ".join(passed_over_reason(a) for a in alternatives)
    return ngettext(
        "One other option was passed over: %(reasons)s.",
        "%(num)d other options were passed over: %(reasons)s.",
        len(alternatives),
        reasons=reasons,
    )


def explanation_sentences(explanation: dict[str, Any] | None) -> list[str]:
    """The stored explanation as a few plain sentences."""
    e = explanation or {}
    first = [NEED[e["urgency"]]()] if e.get("urgency") in NEED else []
    where = distance_words(e.get("distance_km"), bool(e.get("remote")))
    if where:
        first.append(where)
    sentences = [", ".join(first) + "."] if first else []
    if e.get("overlap_hours"):
        sentences.append(
            gettext("The schedules overlap by %(hours)s hours.", hours=round(e["overlap_hours"]))
        )
    sentences += [expiry_sentence(e.get("days_to_expiry")), alternatives_sentence(_alts(e))]
    return [s[0].upper() + s[1:] for s in sentences if s]


def _alts(explanation: dict[str, Any]) -> list[dict[str, Any]]:
    """The stored alternatives, or none."""
    return list(explanation.get("alternatives") or [])


# ---------------------------------------------------------------- the timeline


@dataclass(frozen=True)
class Step:
    """One step of a match's life: its words, when it happened, and whether it is done."""

    label: str
    at: datetime | None
    done: bool
    current: bool = False


def timeline(match: Any) -> list[Step]:
    """Proposed → approved → accepted by each side → handed off → received."""
    steps = [
        (gettext("Proposed by the matcher"), match.created_at),
        (gettext("Approved by a coordinator"), _approved_at(match)),
        (gettext("Accepted by the giving organization"), match.offer_accepted_at),
        (gettext("Accepted by the receiving organization"), match.request_accepted_at),
        (gettext("Handed off by the giver"), match.handed_off_at),
        (gettext("Received"), match.received_at),
    ]
    first_open = next((i for i, (_, at) in enumerate(steps) if at is None), None)
    closed = match.state.value in {"rejected", "declined", "cancelled", "expired"}
    return [
        Step(label, at, at is not None, current=(i == first_open and not closed))
        for i, (label, at) in enumerate(steps)
    ]


APPROVED_OR_LATER = {"approved", "accepted", "handed_off", "fulfilled"}


def _approved_at(match: Any) -> datetime | None:
    """When a coordinator (or a rule) let the match go on; a rejection is not an approval."""
    if match.state.value in APPROVED_OR_LATER:
        return match.decided_at or match.updated_at
    if match.state.value == "rejected":
        return None
    return match.decided_at


def waiting_for(view: dict[str, Any]) -> str:
    """Who the match waits for now, from the viewer's side."""
    state, ours = view["state"], view.get("our_side")
    if state == "proposed":
        return gettext("Waiting for a coordinator to review it.")
    if state == "approved":
        return _waiting_for_acceptance(view, ours)
    if state == "accepted":
        if ours == "offer":
            return gettext("Waiting for you to hand it off.")
        return gettext("Waiting for the giving organization to hand it off.")
    if state == "handed_off":
        if ours == "request":
            return gettext("Waiting for you to confirm you received it.")
        return gettext("Waiting for the receiving organization to confirm receipt.")
    return ""


def _waiting_for_acceptance(view: dict[str, Any], ours: str | None) -> str:
    """Approved: one side or both still have to accept."""
    pending = [s for s in ("offer", "request") if not view[f"{s}_accepted"]]
    if ours in pending and len(pending) == 2:
        return gettext("Waiting for you and the other organization to accept.")
    if ours in pending:
        return gettext("Waiting for you to accept; the other organization already did.")
    if len(pending) == 2:
        return gettext("Waiting for both organizations to accept.")
    if pending == ["offer"]:
        return gettext("Waiting for the giving organization to accept.")
    return gettext("Waiting for the receiving organization to accept.")


NEXT_STEP = {
    "approve": lambda: gettext("Review it: approve to share names and contacts, or reject."),
    "accept": lambda: gettext("Accept it if you can give or take it, or decline."),
    "handoff": lambda: gettext("Confirm once you have handed it off."),
    "receive": lambda: gettext("Confirm once you have received it."),
}


def next_step(view: dict[str, Any]) -> str:
    """The next action for the person looking, if they have one."""
    for action in ("approve", "accept", "handoff", "receive"):
        if action in view.get("actions", []):
            return NEXT_STEP[action]()
    return ""
