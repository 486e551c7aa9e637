//! The conversation condensed: runs of messages become one line, and every event that
//! changed the picture (intent, identity, actions, promises, handoff, assignment) gets
//! its own, so an agent reads the story in a glance and the transcript only if needed.

use crate::event::{Event, EventBody, Outcome};

use super::model::TimelineEntry;
use super::words::humanize;

const QUOTE_CHARS: usize = 100;

fn quote(text: &str) -> String {
    let mut out: String = text.chars().take(QUOTE_CHARS).collect();
    if text.chars().count() > QUOTE_CHARS {
        out.push('…');
    }
    out
}

#[derive(Default)]
struct Run {
    first: Option<(u64, crate::timestamp::Timestamp)>,
    customer: u32,
    bot: u32,
    agent: u32,
}

impl Run {
    fn flush(&mut self, out: &mut Vec<TimelineEntry>) {
        if let Some((seq, at)) = self.first.take() {
            let mut parts = Vec::new();
            for (n, who) in [
                (self.customer, "customer"),
                (self.bot, "bot"),
                (self.agent, "agent"),
            ] {
                if n > 0 {
                    parts.push(format!("{who} {n}"));
                }
            }
            let total = self.customer + self.bot + self.agent;
            let noun = if total == 1 { "message" } else { "messages" };
            out.push(TimelineEntry {
                seq,
                at,
                what: format!("{total} {noun} ({})", parts.join(", ")),
            });
        }
        *self = Run::default();
    }
}

/// The condensed timeline of `events` (already redacted for the viewer).
pub fn condense(events: &[Event]) -> Vec<TimelineEntry> {
    let mut out = Vec::new();
    let mut run = Run::default();
    let mut opened = false;
    let mut last_intent: Option<&str> = None;
    for e in events {
        let what = match &e.body {
            EventBody::CustomerMessage(m) if !opened => {
                opened = true;
                run.flush(&mut out);
                Some(format!("Customer opened: \"{}\"", quote(m.text.as_str())))
            }
            EventBody::CustomerMessage(_)
            | EventBody::BotMessage(_)
            | EventBody::AgentMessage(_) => {
                run.first.get_or_insert((e.seq, e.at));
                match &e.body {
                    EventBody::CustomerMessage(_) => run.customer += 1,
                    EventBody::BotMessage(_) => run.bot += 1,
                    _ => run.agent += 1,
                }
                None
            }
            EventBody::Nlu(n) if last_intent != Some(n.intent.as_str()) => {
                last_intent = Some(n.intent.as_str());
                Some(format!(
                    "Intent read as {} ({:.0} %)",
                    humanize(n.intent.as_str()),
                    n.confidence.get() * 100.0
                ))
            }
            EventBody::Nlu(_) | EventBody::Note(_) => None,
            EventBody::IdentityVerified(v) => Some(format!("Identity verified by {}", v.method)),
            EventBody::DocumentRetrieved(d) => Some(format!("Bot retrieved \"{}\"", d.title)),
            EventBody::Action(a) => Some(format!(
                "Action {}: {}{}",
                a.name,
                super::words::status_word(a.status),
                a.detail
                    .as_ref()
                    .map(|d| format!(" ({})", quote(d.as_str())))
                    .unwrap_or_default()
            )),
            EventBody::Commitment(c) => Some(format!(
                "Bot promised: {}{}",
                c.text,
                c.due.map(|d| format!(" by {d}")).unwrap_or_default()
            )),
            EventBody::HandoffRequested(h) => Some(format!(
                "Bot asked for a human{}",
                h.reason
                    .as_ref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            )),
            EventBody::Decision(d) => match d.outcome {
                Outcome::Continue => None,
                Outcome::Offer => Some("baton offered the customer a human".to_owned()),
                Outcome::Handoff => {
                    let codes: Vec<&str> = d.reasons.iter().map(|r| r.code.as_str()).collect();
                    Some(format!("baton handed off ({})", codes.join(", ")))
                }
            },
            EventBody::Offered(o) => Some(format!("Offered to agent {}", o.agent_id)),
            EventBody::OfferClosed(o) => Some(format!("Offer to {} closed", o.agent_id)),
            EventBody::Assigned(a) => Some(format!("Assigned to agent {}", a.agent_id)),
            EventBody::BouncedBack(b) => Some(format!(
                "Agent {} returned it to the bot: {}",
                b.agent_id,
                quote(b.instructions.as_str())
            )),
            EventBody::Resolved(r) => Some(format!("Resolved: {}", quote(r.resolution.as_str()))),
            EventBody::RepeatAsk(r) => Some(format!(
                "Agent asked again for the {}",
                humanize(r.fact_kind.as_str())
            )),
            EventBody::CustomerRepeated(r) => Some(format!(
                "Customer had to repeat the {}",
                humanize(r.fact_kind.as_str())
            )),
            EventBody::ReadBack(r) => Some(match &r.intent {
                crate::event::IntentCheck::Confirmed => {
                    "Agent confirmed the bot's reading".to_owned()
                }
                crate::event::IntentCheck::Corrected(to) => {
                    format!("Agent corrected the intent to {}", humanize(to.as_str()))
                }
            }),
            EventBody::Survey(_) | EventBody::Erased(_) => None,
        };
        if let Some(what) = what {
            run.flush(&mut out);
            out.push(TimelineEntry {
                seq: e.seq,
                at: e.at,
                what,
            });
        }
    }
    run.flush(&mut out);
    out
}
