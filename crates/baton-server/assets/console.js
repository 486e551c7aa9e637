// baton console: a little plain JavaScript over the public /v1 API. The session
// cookie authenticates fetch and EventSource; nothing here holds the key. Every fetch
// carries the page's CSRF token (x-csrf-token), without which the server refuses any
// call that changes something.
"use strict";

const $ = (sel) => document.querySelector(sel);

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

function toast(message) {
  const t = $("#toast");
  if (!t) return;
  t.textContent = message;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.textContent = ""; }, 5000);
}

async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { "x-csrf-token": csrfToken() } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  if (response.status === 401) { window.location.href = "/"; }
  if (!response.ok) {
    const message = data && data.error ? data.error.message : response.status + " " + response.statusText;
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return data;
}

function waitWords(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
  return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
}

// ---- Agent home: presence and live offers ----------------------------------------

function agentPage() {
  const agent = document.body.dataset.agent;
  const list = $("#offers");
  const none = $("#no-offers");
  const shown = new Map(); // offer_id -> {node, waitNode, base, fetchedAt}

  document.querySelectorAll("#presence input").forEach((input) => {
    input.addEventListener("change", async () => {
      try {
        await api("POST", "/v1/agents/" + encodeURIComponent(agent) + "/presence", { status: input.value });
        toast("You are " + input.value + ".");
        poll();
      } catch (e) { toast("Could not change presence: " + e.message); }
    });
  });

  async function decide(offer, verb, buttons) {
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const done = await api("POST", "/v1/offers/" + encodeURIComponent(offer.offer_id) + "/" + verb);
      if (verb === "accept") {
        window.location.href = "/console/conversations/" + encodeURIComponent(done.conversation || offer.conversation);
        return;
      }
      toast("Offer rejected.");
      poll();
    } catch (e) {
      toast("Could not " + verb + ": " + e.message);
      buttons.forEach((b) => { b.disabled = false; });
      poll();
    }
  }

  function render(offers) {
    const now = Date.now();
    const seen = new Set();
    for (const offer of offers) {
      seen.add(offer.offer_id);
      const known = shown.get(offer.offer_id);
      if (known) { known.base = offer.waiting_ms || 0; known.fetchedAt = now; continue; }
      const waitNode = el("span", { class: "wait" }, waitWords(offer.waiting_ms || 0));
      const accept = el("button", { type: "button", class: "accept" }, "Accept");
      const reject = el("button", { type: "button", class: "reject" }, "Reject");
      const priority = offer.priority || "normal";
      accept.setAttribute("aria-label", "Accept conversation " + offer.conversation);
      reject.setAttribute("aria-label", "Reject conversation " + offer.conversation);
      accept.addEventListener("click", () => decide(offer, "accept", [accept, reject]));
      reject.addEventListener("click", () => decide(offer, "reject", [accept, reject]));
      const node = el("li", { class: "offer prio-" + priority, "data-offer": offer.offer_id, "data-conversation": offer.conversation },
        el("div", {},
          el("p", { class: "situation" }, offer.situation || "A conversation needs a human."),
          el("p", { class: "meta" },
            el("span", { class: "badge prio-" + priority }, priority + " priority"), " · waiting ", waitNode,
            " · ", offer.conversation,
            (offer.skills && offer.skills.length) ? " · skills: " + offer.skills.join(", ") : "")),
        el("div", { class: "actions" }, accept, reject));
      list.append(node);
      shown.set(offer.offer_id, { node, waitNode, base: offer.waiting_ms || 0, fetchedAt: now });
    }
    for (const [id, entry] of shown) {
      if (!seen.has(id)) { entry.node.remove(); shown.delete(id); }
    }
    none.hidden = shown.size > 0;
  }

  async function poll() {
    try {
      const data = await api("GET", "/v1/agents/" + encodeURIComponent(agent) + "/offers");
      render((data && data.offers) || []);
    } catch (e) {
      none.hidden = false;
      none.textContent = "Offers are unavailable: " + e.message;
    }
  }

  api("GET", "/v1/agents/" + encodeURIComponent(agent)).then((me) => {
    const input = me && document.getElementById("presence-" + me.presence);
    if (input) input.checked = true;
  }).catch(() => { /* not registered yet: the server-rendered presence stands */ });

  setInterval(() => {
    const now = Date.now();
    for (const entry of shown.values()) entry.waitNode.textContent = waitWords(entry.base + now - entry.fetchedAt);
  }, 1000);
  setInterval(poll, 2000);
  poll();
}

// ---- Conversation: live transcript, reply with repeat-ask check, actions ---------

const SYSTEM_WORDS = {
  decision: (e) => e.outcome === "handoff" ? "baton decided to hand off" + (e.reasons && e.reasons.length ? ": " + e.reasons.map((r) => r.message).join("; ") : "") : null,
  offered: (e) => "offered to agent " + e.agent_id,
  offer_closed: (e) => "offer to " + e.agent_id + " " + e.reason,
  assigned: (e) => "assigned to agent " + e.agent_id,
  bounced_back: (e) => "handed back to the bot: " + e.instructions,
  resolved: (e) => "resolved: " + e.resolution,
  action: (e) => "action " + e.name + " " + e.status + (e.detail ? ": " + e.detail : ""),
  commitment: (e) => "promised: " + e.text,
  document_retrieved: (e) => "bot read " + e.title,
  identity_verified: (e) => "identity verified (" + e.method + ")",
  handoff_requested: (e) => "the bot asked for a human" + (e.reason ? ": " + e.reason : ""),
  repeat_ask: (e) => "repeat ask: " + e.fact_kind.replace(/_/g, " ") + " was already given in #" + e.fact_seq,
};
const MESSAGE_TYPES = ["customer_message", "bot_message", "agent_message", "note"];

function speaker(actor) {
  if (actor === "customer") return ["customer", "Customer"];
  if (actor === "bot") return ["bot", "Bot"];
  if (actor && actor.startsWith("agent:")) return ["agent", "Agent " + actor.slice(6)];
  return ["system", "baton"];
}

function conversationPage() {
  const cid = document.body.dataset.cid;
  const base = "/v1/conversations/" + encodeURIComponent(cid);
  let lastSeq = Number(document.body.dataset.lastSeq || 0);
  const transcript = $("#transcript");
  const streamState = $("#stream-state");
  transcript.scrollTop = transcript.scrollHeight;

  function append(event) {
    if (transcript.querySelector('[data-seq="' + event.seq + '"]')) return;
    lastSeq = Math.max(lastSeq, event.seq);
    let line;
    if (MESSAGE_TYPES.includes(event.type)) {
      const [cls, who] = speaker(event.actor);
      line = el("li", { class: "msg " + (event.type === "note" ? "note" : cls), "data-seq": String(event.seq) },
        el("span", { class: "who" }, who), " ", el("time", {}, (event.at || "").slice(11, 19)), el("p", {}, event.text || ""));
    } else if (SYSTEM_WORDS[event.type]) {
      const words = SYSTEM_WORDS[event.type](event);
      if (!words) return;
      line = el("li", { class: "msg system", "data-seq": String(event.seq) }, words);
    } else {
      return;
    }
    const atBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 40;
    transcript.append(line);
    if (atBottom) transcript.scrollTop = transcript.scrollHeight;
    if (event.type === "bounced_back" || event.type === "resolved") ownerChanged(event.type === "resolved" ? "closed" : "bot");
    if (event.type === "assigned") ownerChanged("agent");
  }

  function ownerChanged(owner) {
    $("#owner").textContent = "owner: " + owner;
    if (owner !== "agent") {
      document.querySelectorAll("#reply button, #reply textarea, #open-bounce, #open-resolve").forEach((n) => { n.disabled = true; });
    }
  }

  const source = new EventSource(base + "/stream?after=" + lastSeq);
  source.onopen = () => { streamState.textContent = "live"; };
  source.onerror = () => { streamState.textContent = "reconnecting…"; };
  const onEvent = (message) => {
    try { append(JSON.parse(message.data)); } catch (_) { /* not an event */ }
  };
  for (const type of MESSAGE_TYPES.concat(Object.keys(SYSTEM_WORDS))) source.addEventListener(type, onEvent);

  const form = $("#reply");
  if (!form) return;
  const text = $("#reply-text");
  const warning = $("#reply-warning");
  let confirmed = null; // the exact text the agent chose to send despite the warning

  async function send(body) {
    $("#send").disabled = true;
    try {
      const result = await api("POST", base + "/events", { events: [{ type: "agent_message", text: body }] });
      text.value = "";
      warning.hidden = true;
      confirmed = null;
      toast("Sent (#" + result.seq + ").");
    } catch (e) {
      toast("Not sent: " + e.message);
    } finally {
      $("#send").disabled = false;
      text.focus();
    }
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = text.value.trim();
    if (!body) { text.focus(); return; }
    if (confirmed !== body) {
      try {
        const check = await api("POST", "/console/check-reply", { conversation: cid, text: body });
        const known = (check && check.already_known) || [];
        if (known.length) {
          $("#reply-warning-text").textContent = "The customer already gave " +
            known.map((k) => "their " + k.label + " (" + k.value + ", message #" + k.seq + ")").join(" and ") +
            ". Asking again makes them repeat themselves.";
          warning.hidden = false;
          $("#send-anyway").focus();
          return;
        }
      } catch (e) {
        toast("Could not check the reply: " + e.message);
      }
    }
    send(body);
  });
  text.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) form.requestSubmit();
  });
  text.addEventListener("input", () => { if (text.value.trim() !== confirmed) warning.hidden = true; });
  $("#send-anyway").addEventListener("click", () => { confirmed = text.value.trim(); send(confirmed); });
  $("#edit-reply").addEventListener("click", () => { warning.hidden = true; text.focus(); });
  const use = $("#use-opening");
  if (use) use.addEventListener("click", () => { text.value = $("#opening-line").textContent; text.focus(); });

  function dialog(openId, dialogId, formId, submit) {
    const d = $(dialogId);
    $(openId).addEventListener("click", () => d.showModal());
    d.querySelectorAll("[data-close]").forEach((b) => b.addEventListener("click", () => d.close()));
    $(formId).addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const button = $(formId).querySelector("button[type=submit]");
      button.disabled = true;
      try {
        await submit();
        d.close();
      } catch (e) {
        toast(e.message);
      } finally {
        button.disabled = false;
      }
    });
  }

  // Read-back: one click confirms the bot's intent, one click corrects it to what the
  // agent typed, and one click beside a fact corrects that fact to what the agent typed
  // there. The latest read-back stands, so each one repeats the agent's word so far
  // (the server renders what stood before a reload as data-standing): the intent
  // verdict (a fact corrected first leaves the intent shown beside it standing, so
  // "confirmed"), the facts corrected, and the other facts shown as confirmed.
  const readbackBox = $(".readback");
  let standing = { intent: null, corrected: new Map() }; // kind -> corrected value
  if (readbackBox && readbackBox.dataset.standing) {
    try {
      const saved = JSON.parse(readbackBox.dataset.standing);
      standing = { intent: saved.intent, corrected: new Map((saved.corrected || []).map((f) => [f.kind, f.value])) };
    } catch (_) { /* start afresh: the next answer says everything again */ }
  }
  function markCorrected() {
    document.querySelectorAll("ul.facts li[data-kind]").forEach((li) => {
      const value = standing.corrected.get(li.dataset.kind);
      li.classList.toggle("corrected", value !== undefined);
      const input = li.querySelector(".rb-fact");
      if (input && value !== undefined && !input.value) input.value = value;
    });
  }
  async function readBack(change, label) {
    const next = {
      intent: change.intent || standing.intent || "confirmed",
      corrected: new Map(standing.corrected),
    };
    if (change.fact) next.corrected.set(change.fact.kind, change.fact.value);
    const kinds = Array.from(document.querySelectorAll("ul.facts li[data-kind]")).map((li) => li.dataset.kind);
    const confirmed = Array.from(new Set(kinds)).filter((k) => !next.corrected.has(k));
    const body = { intent: next.intent };
    if (confirmed.length || next.corrected.size) {
      body.facts = {};
      if (confirmed.length) body.facts.confirmed = confirmed;
      if (next.corrected.size) {
        body.facts.corrected = Array.from(next.corrected, ([kind, value]) => ({ kind, value }));
      }
    }
    await api("POST", base + "/read-back", body);
    standing = next;
    markCorrected();
    $("#rb-status").textContent = label;
    toast(label);
  }
  const confirmButton = $("#rb-confirm");
  if (confirmButton) {
    markCorrected();
    confirmButton.addEventListener("click", () => readBack({ intent: "confirmed" }, "Confirmed.").catch((e) => toast(e.message)));
    $("#rb-correct").addEventListener("click", () => {
      const to = $("#rb-intent").value.trim();
      if (!to) { toast("Type the right intent first."); $("#rb-intent").focus(); return; }
      readBack({ intent: { corrected: to } }, "Corrected to " + to + ".").catch((e) => toast(e.message));
    });
    document.querySelectorAll("ul.facts li[data-kind]").forEach((li) => {
      const input = li.querySelector(".rb-fact");
      const button = li.querySelector(".rb-fix");
      if (!input || !button) return;
      const what = li.querySelector(".k").textContent;
      button.addEventListener("click", () => {
        const value = input.value.trim();
        if (!value) { toast("Type the right " + what + " first."); input.focus(); return; }
        readBack({ fact: { kind: li.dataset.kind, value } }, "Corrected the " + what + " to " + value + ".")
          .catch((e) => toast(e.message));
      });
      input.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter") { ev.preventDefault(); button.click(); }
      });
    });
  }

  dialog("#open-bounce", "#bounce", "#bounce-form", async () => {
    const instructions = $("#bounce-text").value.trim();
    if (!instructions) throw new Error("Write instructions for the bot first.");
    await api("POST", base + "/bounce-back", { instructions });
    ownerChanged("bot");
    toast("Handed back to the bot.");
  });
  dialog("#open-resolve", "#resolve", "#resolve-form", async () => {
    const resolution = $("#resolution").value.trim();
    if (!resolution) throw new Error("Describe the resolution first.");
    const body = { resolution };
    const intent = $("#true-intent").value.trim();
    if (intent) body.true_intent = intent;
    await api("POST", base + "/resolve", body);
    ownerChanged("closed");
    toast("Resolved.");
  });
}

// ---- Supervisor: queues and agents (live), charts (refreshed) ---------------------

function supervisorPage() {
  function cell(text) { return el("td", {}, text === undefined || text === null ? "–" : String(text)); }

  async function queues() {
    const body = $("#queues tbody");
    const note = $("#queues-note");
    try {
      const data = await api("GET", "/v1/queues");
      const rows = (data && data.queues) || [];
      body.replaceChildren(...rows.map((q) => {
        const f = q.forecast || {};
        return el("tr", {}, cell(q.skill), cell(q.waiting), cell(waitWords(q.longest_wait_ms || 0)),
          cell(f.expected_wait_secs === undefined ? null : waitWords(f.expected_wait_secs * 1000)), cell(f.agents_needed));
      }));
      note.textContent = rows.length ? "" : "No queues yet.";
    } catch (e) { note.textContent = "Queues unavailable: " + e.message; }
  }

  async function agents() {
    const body = $("#agents tbody");
    const note = $("#agents-note");
    try {
      const data = await api("GET", "/v1/agents");
      const rows = (data && data.agents) || (Array.isArray(data) ? data : []);
      body.replaceChildren(...rows.map((a) => {
        const skills = a.skills ? Object.entries(a.skills).map(([k, v]) => k + " " + v).join(", ") : "";
        const presence = el("td", { class: "presence-" + a.presence }, a.presence || "–");
        return el("tr", {}, cell(a.id), presence, cell((a.load ?? 0) + " / " + (a.capacity ?? "?")), cell(skills),
          cell((a.conversations || []).length));
      }));
      note.textContent = rows.length ? "" : "No agents yet.";
    } catch (e) { note.textContent = "Agents unavailable: " + e.message; }
  }

  async function charts() {
    try {
      const response = await fetch("/console/supervisor/charts", { credentials: "same-origin", headers: { "x-csrf-token": csrfToken() } });
      if (response.ok) $("#charts").innerHTML = await response.text();
    } catch (_) { /* keep the last charts */ }
  }

  queues(); agents();
  setInterval(() => { queues(); agents(); }, 5000);
  setInterval(charts, 30000);
}

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  if (page === "agent") agentPage();
  else if (page === "conversation") conversationPage();
  else if (page === "supervisor") supervisorPage();
});
