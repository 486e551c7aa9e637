#!/usr/bin/env python3
"""A small support bot written against baton's HTTP API (Python standard library only).

It reads customer messages from standard input (one per line: plain text, or JSON
``{"conversation": "c-1", "text": "..."}``), posts each to baton with the bot's NLU
reading in one batch, and answers with a ``bot_message`` of its own while the bot owns
the conversation. It registers a webhook and runs a small receiver that verifies every
delivery's Standard Webhooks signature; when a delivery says a human took over
(``assigned``) it stops replying, and when the agent hands back (``bounced_back``) it
resumes with the agent's instructions.

Everything it does is printed as one JSON object per line on standard output, so a
person can watch it and a test can check it. See examples/README.md.
"""

import argparse
import http.server
import json
import os
import sys
import threading
import uuid

from baton_client import ApiError, Baton
from signature import InvalidSignature, verify

# The webhook event types the bot acts on.
SUBSCRIBED = ["decision", "assigned", "bounced_back", "resolved"]

# A toy NLU: (words, intent, confidence). A real bot calls its NLU here.
INTENTS = [
    (("charged", "charge", "refund", "invoice", "billing"), "billing.double_charge", 0.82),
    (("password", "log in", "login", "locked"), "account.password_reset", 0.9),
    (("order", "delivery", "parcel", "shipping"), "order.status", 0.77),
    (("human", "agent", "person", "someone"), "talk_to_human", 0.93),
]
REPLIES = {
    "billing.double_charge": "Sorry about the double charge! Let me look into it.",
    "account.password_reset": "I can help with that: I have sent you a reset link.",
    "order.status": "Let me check where your order is.",
    "talk_to_human": "Let me find a colleague for you.",
    "fallback": "Could you tell me a bit more?",
}
HOLDING = "A colleague will be with you shortly; I'll stay here until then."


def understand(text):
    """The toy NLU's reading of one customer message: (intent, confidence)."""
    lower = text.lower()
    for words, intent, confidence in INTENTS:
        if any(w in lower for w in words):
            return intent, confidence
    return "fallback", 0.3


def new_id():
    """A client idempotency id: a retried request with the same ids is stored once."""
    return uuid.uuid4().hex


class Log:
    """JSON lines on stdout, one writer at a time (the receiver runs on other threads)."""

    def __init__(self):
        self._lock = threading.Lock()

    def __call__(self, event, **fields):
        line = json.dumps({"event": event, **fields}, sort_keys=True)
        with self._lock:
            print(line, flush=True)


class Bot:
    """Who owns each conversation, as the bot last heard it, and what it says."""

    def __init__(self, api, log):
        self.api = api
        self.log = log
        self._lock = threading.Lock()
        # conversation -> "bot" | "waiting" (handoff decided) | "human" (agent owns it)
        self._mode = {}
        self._seen = set()  # webhook-ids already handled: deliveries are at least once
        # Every secret a delivery may be signed with (after a rotation: new and old).
        self.secrets = []

    def mode(self, conversation):
        with self._lock:
            return self._mode.get(conversation, "bot")

    def _set(self, conversation, mode):
        with self._lock:
            self._mode[conversation] = mode

    def customer_says(self, conversation, text):
        intent, confidence = understand(text)
        # A batch: the message and the NLU's reading of it, appended atomically.
        answer = self.api.append(
            conversation,
            [
                {"id": new_id(), "type": "customer_message", "text": text},
                {"id": new_id(), "type": "nlu", "intent": intent, "confidence": confidence},
            ],
        )
        decision = answer.get("decision") or {}
        self.log("posted", conversation=conversation, seq=answer["seq"],
                 owner=answer["owner"], outcome=decision.get("outcome"), intent=intent)
        if self.mode(conversation) == "human" or answer["owner"] == "agent":
            # The agent answers now; the bot only records what the customer said.
            self.log("silent", conversation=conversation, seq=answer["seq"])
            return
        if decision.get("outcome") == "handoff" or answer["owner"] in ("queued", "offered"):
            self._set(conversation, "waiting")
            self.reply(conversation, HOLDING, "holding")
            return
        self.reply(conversation, REPLIES[intent], "replied")

    def reply(self, conversation, text, what):
        """One event per request: the bot's answer."""
        try:
            answer = self.api.append(
                conversation, [{"id": new_id(), "type": "bot_message", "text": text}]
            )
        except ApiError as e:
            # 409 not_owner: an agent took the conversation between our two calls.
            if e.status == 409:
                self._set(conversation, "human")
                self.log("silent", conversation=conversation, reason=e.code)
                return
            raise
        self.log(what, conversation=conversation, seq=answer["seq"])

    def on_webhook(self, msg_id, payload):
        with self._lock:
            if msg_id in self._seen:
                return False
        kind = payload["type"]
        data = payload["data"]
        conversation, event = data["conversation"], data["event"]
        self.log("webhook", type=kind, conversation=conversation, seq=data["seq"],
                 webhook_id=msg_id)
        if kind == "decision" and event.get("outcome") == "handoff":
            if self.mode(conversation) == "bot":
                self._set(conversation, "waiting")
        elif kind == "assigned":
            self._set(conversation, "human")
            self.log("takeover", conversation=conversation, agent=event["agent_id"],
                     seq=data["seq"])
        elif kind == "bounced_back":
            self._set(conversation, "bot")
            self.log("resumed", conversation=conversation, agent=event["agent_id"],
                     seq=data["seq"], instructions=event.get("instructions"))
            self.reply(conversation, "Thanks for waiting! I'm back to help you.", "replied")
        elif kind == "resolved":
            with self._lock:
                self._mode.pop(conversation, None)
            self.log("closed", conversation=conversation, seq=data["seq"])
        # Only once handled: a delivery that failed half-way (500) is retried in full.
        with self._lock:
            self._seen.add(msg_id)
        return True


def receiver(bot, log):
    """The webhook endpoint: verify first, parse after, answer fast."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                msg_id = verify(bot.secrets, headers, body)
            except InvalidSignature as e:
                log("rejected", reason=str(e), webhook_id=headers.get("webhook-id"))
                self._answer(401)
                return
            try:
                fresh = bot.on_webhook(msg_id, json.loads(body))
            except Exception as e:  # noqa: BLE001 - a 500 makes baton retry later
                log("error", webhook_id=msg_id, error=repr(e))
                self._answer(500)
                return
            if not fresh:
                log("duplicate", webhook_id=msg_id)
            self._answer(204)

        def _answer(self, status):
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass  # the JSON lines say what matters

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baton", default=os.environ.get("BATON_URL", "http://127.0.0.1:8640"))
    parser.add_argument("--admin-key", default=os.environ.get("BATON_ADMIN_KEY"),
                        help="registers the webhook (and issues a bot key if none is given)")
    parser.add_argument("--bot-key", default=os.environ.get("BATON_BOT_KEY"))
    parser.add_argument("--listen", default="127.0.0.1:8650",
                        help="where the webhook receiver listens (port 0: any free port)")
    parser.add_argument("--public-url",
                        help="the receiver's URL as baton reaches it (default: from --listen)")
    parser.add_argument("--conversation", default="demo-1",
                        help="the conversation plain-text input lines belong to")
    parser.add_argument("--keep-webhook", action="store_true",
                        help="leave the webhook registered on exit")
    args = parser.parse_args()
    if not args.admin_key:
        parser.error("an admin key is needed to register the webhook: --admin-key or BATON_ADMIN_KEY")

    log = Log()
    api = Baton(args.baton, args.bot_key or "")
    if not args.bot_key:
        api.key = api.issue_key(args.admin_key, "bot", "example-bot")
    bot = Bot(api, log)

    host, _, port = args.listen.rpartition(":")
    # Bound before the webhook is registered, so `--listen 127.0.0.1:0` names its port.
    server = http.server.ThreadingHTTPServer((host, int(port)), receiver(bot, log))
    url = args.public_url or f"http://{host}:{server.server_address[1]}/webhook"
    hook = api.create_webhook(args.admin_key, url, SUBSCRIBED, "examples/python_bot")
    bot.secrets = [hook["secret"]]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    log("ready", webhook=hook["id"], receiver=url, baton=args.baton)

    try:
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            if line.startswith("{"):
                message = json.loads(line)
                conversation, text = message["conversation"], message["text"]
            else:
                conversation, text = args.conversation, line
            try:
                bot.customer_says(conversation, text)
            except ApiError as e:
                log("refused", conversation=conversation, status=e.status, code=e.code,
                    field=e.field)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        if not args.keep_webhook:
            api.delete_webhook(args.admin_key, hook["id"])
        log("stopped", webhook=hook["id"], deleted=not args.keep_webhook)


if __name__ == "__main__":
    main()
