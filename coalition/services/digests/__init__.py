"""Email digests: subscriptions, due periods, and exactly-once sends with retries.

A digest for (subscription, period) exists once: its `digest_sends` row is inserted under a
unique key (`scheduling`), so any number of schedulers insert it at most once, and its window
of time (`periods`) is fixed then. A worker sends only rows it claimed by moving them from
pending to sending with a conditional UPDATE that stamps its claim token and a lease
(`claims`); a crashed worker's rows become claimable again when the lease runs out. The run
that renders and sends claimed rows is `coalition.notify.digest.run` (sending is notify's
job; services never import notify); the entry points commit at every point it names.
Members manage their own subscription (`subscriptions`); admins add email-only recipients,
who confirm by email (`recipients`).

The names below are the package's public face, used as `service.<name>` by the views and
the CLI; modules inside the package import each other directly.
"""

from coalition.services.digests.claims import (
    Claim,
    claim_batch,
    extend_claim,
    mark_retry,
    mark_sent,
    mark_skipped,
    recent_sends,
    release,
    retry_now,
    send_counts,
)
from coalition.services.digests.periods import (
    WEEKDAYS,
    Period,
    current_period,
    due_period,
    next_due,
    window_start,
    zone,
)
from coalition.services.digests.recipients import (
    add_recipient,
    can_manage_recipient,
    confirm_recipient,
    confirmation_message,
    managed_recipients,
    subscription_from_confirm_token,
)
from coalition.services.digests.scheduling import (
    due_rows,
    insert_sends,
    receiving_query,
    schedule_due,
)
from coalition.services.digests.settings import CONFIRM_PURPOSE, UNSUBSCRIBE_PURPOSE
from coalition.services.digests.subscriptions import (
    default_timezone,
    draft_for_user,
    find_subscription,
    save_user_subscription,
    stop_subscription,
    subscription_for_user,
    subscription_from_unsubscribe_token,
    unsubscribe_token,
    validate_settings,
)

__all__ = [
    "CONFIRM_PURPOSE",
    "Claim",
    "Period",
    "UNSUBSCRIBE_PURPOSE",
    "WEEKDAYS",
    "add_recipient",
    "can_manage_recipient",
    "claim_batch",
    "confirm_recipient",
    "confirmation_message",
    "current_period",
    "default_timezone",
    "draft_for_user",
    "due_period",
    "due_rows",
    "extend_claim",
    "find_subscription",
    "insert_sends",
    "managed_recipients",
    "mark_retry",
    "mark_sent",
    "mark_skipped",
    "next_due",
    "receiving_query",
    "recent_sends",
    "release",
    "retry_now",
    "save_user_subscription",
    "schedule_due",
    "send_counts",
    "stop_subscription",
    "subscription_for_user",
    "subscription_from_confirm_token",
    "subscription_from_unsubscribe_token",
    "unsubscribe_token",
    "validate_settings",
    "window_start",
    "zone",
]
