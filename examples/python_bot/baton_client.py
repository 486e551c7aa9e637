"""The few calls of baton's HTTP API this bot makes, with urllib only."""

import json
import time
import urllib.error
import urllib.request


class ApiError(Exception):
    """baton answered with an error: ``{"error": {"code", "message", "field"?}}``."""

    def __init__(self, status, body):
        error = body.get("error", {}) if isinstance(body, dict) else {}
        self.status = status
        self.code = error.get("code", "unknown")
        self.field = error.get("field")
        super().__init__(f"{status} {self.code}: {error.get('message', body)}")


class Baton:
    def __init__(self, base_url, key, timeout=10.0):
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.timeout = timeout

    def call(self, method, path, body=None, key=None, retries=3):
        """One JSON call. Connection failures and 5xx are retried with the same body:
        every event carries an ``id``, so baton stores a retried batch once."""
        data = None if body is None else json.dumps(body).encode()
        for attempt in range(retries + 1):
            request = urllib.request.Request(self.base_url + path, data=data, method=method)
            request.add_header("authorization", f"Bearer {key or self.key}")
            if data is not None:
                request.add_header("content-type", "application/json")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    raw = response.read()
                    return json.loads(raw) if raw else None
            except urllib.error.HTTPError as e:
                raw = e.read()
                try:
                    parsed = json.loads(raw)
                except ValueError:
                    parsed = raw.decode(errors="replace")
                if e.code < 500 or attempt == retries:
                    raise ApiError(e.code, parsed) from None
            except (urllib.error.URLError, TimeoutError, ConnectionError):
                if attempt == retries:
                    raise
            time.sleep(0.2 * 2**attempt)
        raise AssertionError("unreachable")

    def append(self, conversation, events):
        """``POST /v1/conversations/{cid}/events``: one event or a batch, atomically."""
        return self.call("POST", f"/v1/conversations/{conversation}/events", {"events": events})

    def issue_key(self, admin_key, role, name):
        """``POST /v1/keys`` (admin): the new key's secret."""
        return self.call("POST", "/v1/keys", {"role": role, "name": name}, key=admin_key)["key"]

    def create_webhook(self, admin_key, url, events, description):
        """``POST /v1/webhooks`` (admin): ``{"id", "secret", ...}``, the secret shown once."""
        body = {"url": url, "events": events, "description": description}
        return self.call("POST", "/v1/webhooks", body, key=admin_key)

    def delete_webhook(self, admin_key, webhook_id):
        """``DELETE /v1/webhooks/{id}`` (admin)."""
        return self.call("DELETE", f"/v1/webhooks/{webhook_id}", key=admin_key)
