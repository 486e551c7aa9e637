"""Standard Webhooks signature verification, with the Python standard library only.

baton signs every delivery as the Standard Webhooks specification says
(https://www.standardwebhooks.com/): the secret is ``whsec_`` + base64 of the key; the
signed content is ``"{webhook-id}.{webhook-timestamp}.{body}"``; ``webhook-signature``
holds one or more space-separated ``v1,<base64 HMAC-SHA256>`` (two while a secret
rotation's grace period runs). Copy this file as it is into your own receiver.
"""

import base64
import hashlib
import hmac
import time

# The specification's suggested tolerance: older (or newer) timestamps are replays.
TOLERANCE_SECS = 5 * 60


class InvalidSignature(Exception):
    """The delivery did not come from baton (or came too late): answer 401."""


def _key(secret):
    if secret.startswith("whsec_"):
        secret = secret[len("whsec_"):]
    return base64.b64decode(secret)


def sign(secret, msg_id, timestamp, body):
    """The ``v1,<base64>`` signature of ``body`` (bytes) under ``secret``."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(secrets, headers, body, now=None):
    """Checks a delivery's headers against ``body`` (the raw bytes, before any JSON
    parsing) and returns its ``webhook-id``; raises InvalidSignature otherwise.

    ``secrets`` lists every secret that may have signed it (after a rotation, the new
    one and the old one). ``headers`` maps lower-case header names to values.
    """
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not msg_id or not timestamp or not signatures:
        raise InvalidSignature("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        sent = int(timestamp)
    except ValueError:
        raise InvalidSignature("webhook-timestamp is not a number") from None
    now = int(time.time()) if now is None else now
    if abs(now - sent) > TOLERANCE_SECS:
        raise InvalidSignature("webhook-timestamp is outside the tolerance")
    expected = [sign(secret, msg_id, timestamp, body) for secret in secrets]
    for candidate in signatures.split(" "):
        # Compare every pair in constant time: which one matched must not leak either.
        if any(hmac.compare_digest(candidate, e) for e in expected):
            return msg_id
    raise InvalidSignature("no signature matches")
