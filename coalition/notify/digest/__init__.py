"""Digest content and delivery: what each recipient sees, rendered and handed to SMTP.

`readers` (who reads, and links), `snapshot` (the queries many digests share), `content`
(one reader's digest), `mime` (the message on the wire) and `pipeline` (sending on a second
thread over the one SMTP client of `coalition.notify.smtp`). The names below are the
package's public face, used as `render.<name>` by the digest sends.
"""

from coalition.notify.digest.content import DigestContent, Item, Section, build_content
from coalition.notify.digest.mime import (
    Rendered,
    Templates,
    build_digest_message,
    digest_message_id,
    mime_alternative,
    render_parts,
    unsubscribe_mailto,
)
from coalition.notify.digest.pipeline import UNTRIED, Outcome, Pipeline, deliver_all
from coalition.notify.digest.readers import Links, Recipient, Viewer
from coalition.notify.digest.snapshot import Snapshot
from coalition.notify.smtp import DeliveryError, Mailer

__all__ = [
    "UNTRIED",
    "DeliveryError",
    "DigestContent",
    "Item",
    "Links",
    "Mailer",
    "Outcome",
    "Pipeline",
    "Recipient",
    "Rendered",
    "Section",
    "Snapshot",
    "Templates",
    "Viewer",
    "build_content",
    "build_digest_message",
    "deliver_all",
    "digest_message_id",
    "mime_alternative",
    "render_parts",
    "unsubscribe_mailto",
]
