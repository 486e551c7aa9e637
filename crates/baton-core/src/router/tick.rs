//! Time-driven work: offers that expire, conversations that overflow, cool-downs that
//! end, and forgetting what no longer matters. The server calls [`Router::tick`]
//! periodically (every second is plenty; offers expire at most that late).

use super::types::{Presence, RouterEffect};
use super::{Router, StickyKey, WaitSeq};
use crate::event::OfferEnd;
use crate::timestamp::Timestamp;

/// How long an unused skill group is kept before its index is dropped.
const GROUP_IDLE_MS: i64 = 3_600_000;

/// How long an accepted offer is remembered, to answer its agent's second accept.
const ACCEPTED_KEPT_MS: i64 = 600_000;

impl Router {
    /// Does everything due at `now`: expires offers (moving their conversations on and
    /// setting agents with too many expiries in a row `away`), overflows conversations
    /// past the overflow wait, re-offers conversations whose cool-downs ended.
    pub fn tick(&mut self, now: Timestamp) -> Vec<RouterEffect> {
        let mut out = Vec::new();
        let cutoff = now.plus_millis(-ACCEPTED_KEPT_MS);
        self.accepted.retain(|_, (_, at)| *at >= cutoff);
        // A passive router's offers are the leader's to expire.
        if !self.active {
            return out;
        }
        self.run_expiries(now, &mut out);
        self.run_overflow(now, &mut out);
        self.run_retries(now, &mut out);
        for a in std::mem::take(&mut self.rescan) {
            self.serve_agent(a, now, &mut out);
        }
        self.forget_sticky(now);
        self.collect_groups(now, GROUP_IDLE_MS);
        out
    }

    fn run_expiries(&mut self, now: Timestamp, out: &mut Vec<RouterEffect>) {
        while let Some((at, offer)) = self.expiries.first().cloned() {
            if at > now {
                break;
            }
            let Some(a) = self.offers.get(&offer).map(|o| o.agent) else {
                self.expiries.remove(&(at, offer));
                continue;
            };
            let w = self.close_offer(&offer, OfferEnd::Expired, now, out);
            let streak = self.with_agent(a, |slot| {
                slot.expiries_in_row += 1;
                slot.expiries_in_row
            });
            let away = streak >= self.config.max_expiries_in_row
                && self.agents[a as usize].presence == Presence::Available;
            if away {
                let agent = self.agents[a as usize].id.clone();
                out.push(RouterEffect::AgentAway { agent });
                self.apply_presence(a, Presence::Away, now, out);
            }
            if let Some(w) = w {
                self.match_conversation(w, now, out);
            }
            self.serve_agent(a, now, out);
        }
    }

    pub(super) fn run_overflow(&mut self, now: Timestamp, out: &mut Vec<RouterEffect>) {
        let Some(overflow) = self.config.overflow.clone() else {
            return;
        };
        let skills = super::queue::normalize(&overflow.skills);
        while let Some(&(due, w)) = self.overflow_due.first() {
            if due > now {
                break;
            }
            self.overflow_due.remove(&(due, w));
            let g = self.ensure_group(&skills, now);
            let Some(entry) = self.waiting.get_mut(&w) else {
                continue;
            };
            if entry.fallback.is_some() || entry.primary == g {
                continue;
            }
            entry.fallback = Some(g);
            let (key, queued) = (entry.key, entry.offer.is_none());
            let conversation = entry.conversation.clone();
            if let Some(group) = self.groups.get_mut(&g) {
                group.refs += 1;
                if queued {
                    group.queue.insert(key);
                }
            }
            out.push(RouterEffect::Overflowed {
                conversation,
                skills: skills.clone(),
            });
            self.match_conversation(w, now, out);
        }
    }

    fn run_retries(&mut self, now: Timestamp, out: &mut Vec<RouterEffect>) {
        let mut due: Vec<WaitSeq> = Vec::new();
        while let Some(&(at, w)) = self.retry_due.first() {
            if at > now {
                break;
            }
            self.retry_due.remove(&(at, w));
            if let Some(entry) = self.waiting.get_mut(&w) {
                entry.excluded.retain(|_, until| *until > now);
                due.push(w);
            }
        }
        due.dedup();
        for w in due {
            self.match_conversation(w, now, out);
        }
    }

    fn forget_sticky(&mut self, now: Timestamp) {
        let cutoff = now.plus_millis(-self.config.sticky_window_ms);
        while let Some((at, key)) = self.sticky_due.first().cloned() {
            if at >= cutoff {
                break;
            }
            self.sticky_due.remove(&(at, key.clone()));
            if self.sticky.get(&key).is_some_and(|&(_, seen)| seen == at) {
                self.sticky.remove::<StickyKey>(&key);
            }
        }
    }
}
