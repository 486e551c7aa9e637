//! Property tests: random command sequences against the router, checking the issue's
//! invariants from the effects alone (never over capacity, at most one live offer per
//! conversation, at most one owner, offers only to skilled available agents) and the
//! router's own indexes against a recomputation from scratch after every command.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::tests::{aid, cid, t};
use super::*;
use crate::event::Priority;

const SKILLS: [&str; 3] = ["billing", "tech", "general"];

#[derive(Debug, Clone)]
enum Cmd {
    Upsert {
        agent: u8,
        skills: u8,
        proficiency: u8,
        capacity: u32,
    },
    Presence {
        agent: u8,
        presence: u8,
    },
    Enqueue {
        conv: u8,
        skills: u8,
        priority: u8,
        customer: Option<u8>,
        preferred: Option<u8>,
        age_s: i64,
    },
    Withdraw {
        conv: u8,
    },
    Accept {
        pick: usize,
        wrong: bool,
    },
    Reject {
        pick: usize,
    },
    Release {
        pick: usize,
    },
    Tick,
}

fn cmd() -> impl Strategy<Value = (i64, Cmd)> {
    let c = prop_oneof![
        (0u8..4, 0u8..8, 1u8..=5, 0u32..4).prop_map(|(agent, skills, proficiency, capacity)| {
            Cmd::Upsert {
                agent,
                skills,
                proficiency,
                capacity,
            }
        }),
        (0u8..4, 0u8..3).prop_map(|(agent, presence)| Cmd::Presence { agent, presence }),
        (
            0u8..8,
            0u8..8,
            0u8..4,
            proptest::option::of(0u8..3),
            proptest::option::of(0u8..4),
            0i64..300
        )
            .prop_map(|(conv, skills, priority, customer, preferred, age_s)| {
                Cmd::Enqueue {
                    conv,
                    skills,
                    priority,
                    customer,
                    preferred,
                    age_s,
                }
            }),
        (0u8..8).prop_map(|conv| Cmd::Withdraw { conv }),
        (0usize..8, any::<bool>()).prop_map(|(pick, wrong)| Cmd::Accept { pick, wrong }),
        (0usize..8).prop_map(|pick| Cmd::Reject { pick }),
        (0usize..8).prop_map(|pick| Cmd::Release { pick }),
        Just(Cmd::Tick),
    ];
    (0i64..15_000, c)
}

fn skills_of(mask: u8) -> Vec<Label> {
    SKILLS
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, s)| Label::parse(*s).unwrap())
        .collect()
}

fn agent_name(i: u8) -> AgentId {
    aid(&format!("a{i}"))
}

/// What the effects say, independently of the router's internals.
#[derive(Default)]
struct Model {
    skills: BTreeMap<AgentId, BTreeSet<Label>>,
    capacity: BTreeMap<AgentId, u32>,
    presence: BTreeMap<AgentId, Presence>,
    needs: BTreeMap<ConversationId, Vec<Label>>,
    live: BTreeMap<OfferId, (ConversationId, AgentId)>,
    owner: BTreeMap<ConversationId, AgentId>,
}

impl Model {
    fn load(&self, agent: &AgentId) -> u32 {
        let offers = self.live.values().filter(|(_, a)| a == agent).count();
        let owned = self.owner.values().filter(|a| *a == agent).count();
        u32::try_from(offers + owned).unwrap()
    }

    fn apply(&mut self, effects: &[RouterEffect], fallback: &[Label]) -> Result<(), TestCaseError> {
        for e in effects {
            match e {
                RouterEffect::Offered {
                    offer_id,
                    conversation,
                    agent,
                    ..
                } => {
                    prop_assert!(
                        !self.live.values().any(|(c, _)| c == conversation),
                        "two live offers for {conversation}"
                    );
                    prop_assert!(
                        !self.owner.contains_key(conversation),
                        "offered while owned: {conversation}"
                    );
                    prop_assert_eq!(self.presence.get(agent), Some(&Presence::Available));
                    prop_assert!(
                        self.load(agent) < self.capacity[agent],
                        "over capacity: {agent}"
                    );
                    let has = &self.skills[agent];
                    let needs = &self.needs[conversation];
                    let skilled = needs.iter().all(|s| has.contains(s))
                        || fallback.iter().all(|s| has.contains(s));
                    prop_assert!(skilled, "{agent} lacks skills for {conversation}");
                    self.live
                        .insert(offer_id.clone(), (conversation.clone(), agent.clone()));
                }
                RouterEffect::OfferClosed {
                    offer_id,
                    conversation,
                    agent,
                    ..
                } => {
                    let live = self.live.remove(offer_id);
                    prop_assert_eq!(live, Some((conversation.clone(), agent.clone())));
                }
                RouterEffect::Assigned {
                    conversation,
                    agent,
                    offer_id,
                } => {
                    let live = self.live.remove(offer_id);
                    prop_assert_eq!(live, Some((conversation.clone(), agent.clone())));
                    prop_assert!(
                        self.owner
                            .insert(conversation.clone(), agent.clone())
                            .is_none(),
                        "two owners"
                    );
                }
                RouterEffect::AgentAway { agent } => {
                    self.presence.insert(agent.clone(), Presence::Away);
                }
                RouterEffect::Overflowed { .. } => {}
            }
        }
        Ok(())
    }
}

impl Router {
    /// Recomputes every index from the primary records and compares.
    fn check_consistency(&self, now: Timestamp) {
        let mut staffing: BTreeMap<Label, Staffing> = BTreeMap::new();
        for (i, slot) in self.agents.iter().enumerate() {
            let a = AgentIx::try_from(i).unwrap();
            assert_eq!(self.agent_index[&slot.id], a);
            for (&g, group) in &self.groups {
                let member = slot.has_all(&group.skills);
                assert_eq!(group.members.contains(&a), member);
                assert_eq!(slot.groups.contains(&g), member);
                let free = member && slot.is_free();
                assert_eq!(
                    group.free.contains(&slot.key(a, &group.skills)),
                    free,
                    "free index of {}",
                    slot.id
                );
                assert_eq!(
                    group.free.iter().filter(|k| k.agent == a).count(),
                    usize::from(free)
                );
            }
            for o in &slot.offers {
                assert_eq!(self.offers[o].agent, a);
            }
            for c in &slot.owned {
                assert_eq!(self.owners[c], a);
            }
            if slot.presence == Presence::Available {
                for skill in slot.skills.keys() {
                    let s = staffing.entry(skill.clone()).or_default();
                    s.agents += 1;
                    s.slots += u64::from(slot.capacity);
                }
            }
        }
        for (skill, s) in &self.staffing {
            assert_eq!(
                staffing.get(skill).copied().unwrap_or_default(),
                *s,
                "staffing of {skill}"
            );
        }
        assert_eq!(self.offers.len(), self.expiries.len());
        for (id, live) in &self.offers {
            assert!(self.expiries.contains(&(live.expires_at, id.clone())));
            assert_eq!(self.waiting[&live.wait].offer.as_ref(), Some(id));
        }
        assert_eq!(
            self.owners.len(),
            self.agents.iter().map(|s| s.owned.len()).sum::<usize>()
        );
        for (&g, group) in &self.groups {
            let queued: BTreeSet<_> = self
                .waiting
                .values()
                .filter(|w| w.offer.is_none() && w.groups().any(|x| x == g))
                .map(|w| w.key)
                .collect();
            assert_eq!(group.queue, queued);
        }
        for (&seq, w) in &self.waiting {
            assert_eq!(self.waiting_index[&w.conversation], seq);
            assert!(!self.owners.contains_key(&w.conversation));
            if w.offer.is_some() {
                continue;
            }
            // Dispatch is complete: no free, skilled agent is left idle beside it.
            for (i, slot) in self.agents.iter().enumerate() {
                let a = AgentIx::try_from(i).unwrap();
                let skilled = w.groups().any(|g| slot.groups.contains(&g));
                assert!(
                    !(skilled && slot.is_free() && !w.excluded.contains_key(&a)),
                    "{} waits while {} is free at {now}",
                    w.conversation,
                    slot.id
                );
            }
        }
    }
}

fn run(commands: Vec<(i64, Cmd)>) -> Result<(), TestCaseError> {
    let fallback = vec![Label::parse("general").unwrap()];
    let config = RouterConfig {
        offer_timeout_ms: 20_000,
        reoffer_cooldown_ms: 25_000,
        max_expiries_in_row: 2,
        overflow: Some(Overflow {
            after_ms: 60_000,
            skills: fallback.clone(),
        }),
        ..RouterConfig::default()
    };
    let mut router = Router::new(config);
    let mut model = Model::default();
    let mut now_ms = 0;
    for (dt, command) in commands {
        now_ms += dt;
        let now = t(0).plus_millis(now_ms);
        let before = router.clone();
        let result: Result<Vec<RouterEffect>, RouterError> = match command {
            Cmd::Upsert {
                agent,
                skills,
                proficiency,
                capacity,
            } => {
                let id = agent_name(agent);
                let skills: BTreeMap<Label, u8> = skills_of(skills)
                    .into_iter()
                    .map(|s| (s, proficiency))
                    .collect();
                model
                    .skills
                    .insert(id.clone(), skills.keys().cloned().collect());
                model.capacity.insert(id.clone(), capacity);
                model
                    .presence
                    .entry(id.clone())
                    .or_insert(Presence::Offline);
                router.upsert_agent(
                    AgentProfile {
                        id,
                        skills,
                        capacity,
                    },
                    now,
                )
            }
            Cmd::Presence { agent, presence } => {
                let presence =
                    [Presence::Available, Presence::Away, Presence::Offline][usize::from(presence)];
                let id = agent_name(agent);
                let result = router.set_presence(&id, presence, now);
                if result.is_ok() {
                    model.presence.insert(id, presence);
                }
                result
            }
            Cmd::Enqueue {
                conv,
                skills,
                priority,
                customer,
                preferred,
                age_s,
            } => {
                let conversation = cid(&format!("c{conv}"));
                let queued = QueuedConversation {
                    conversation: conversation.clone(),
                    customer: customer.map(|c| CustomerId::parse(format!("cust{c}")).unwrap()),
                    priority: [
                        Priority::Low,
                        Priority::Normal,
                        Priority::High,
                        Priority::Urgent,
                    ][usize::from(priority)],
                    skills: skills_of(skills),
                    enqueued_at: now.plus_millis(-age_s * 1000),
                    preferred_agent: preferred.map(agent_name),
                };
                let result = router.enqueue(queued, now);
                if result.is_ok() {
                    model.needs.insert(conversation, skills_of(skills));
                }
                result
            }
            Cmd::Withdraw { conv } => {
                let conversation = cid(&format!("c{conv}"));
                let effects = router.withdraw(&conversation, now);
                model.owner.remove(&conversation);
                Ok(effects)
            }
            Cmd::Accept { pick, wrong } => {
                match model.live.iter().nth(pick % model.live.len().max(1)) {
                    Some((offer, (_, agent))) => {
                        let who = if wrong { aid("a9") } else { agent.clone() };
                        router.accept(&offer.clone(), &who, now)
                    }
                    None => Ok(Vec::new()),
                }
            }
            Cmd::Reject { pick } => match model.live.iter().nth(pick % model.live.len().max(1)) {
                Some((offer, (_, agent))) => router.reject(&offer.clone(), &agent.clone(), now),
                None => Ok(Vec::new()),
            },
            Cmd::Release { pick } => {
                match model.owner.iter().nth(pick % model.owner.len().max(1)) {
                    Some((conversation, agent)) => {
                        let (conversation, agent) = (conversation.clone(), agent.clone());
                        let result = router.release(&agent, &conversation, now);
                        if result.is_ok() {
                            model.owner.remove(&conversation);
                        }
                        result
                    }
                    None => Ok(Vec::new()),
                }
            }
            Cmd::Tick => Ok(router.tick(now)),
        };
        match result {
            Ok(effects) => model.apply(&effects, &fallback)?,
            Err(_) => prop_assert_eq!(
                format!("{before:?}"),
                format!("{router:?}"),
                "a refused command changed the router"
            ),
        }
        router.check_consistency(now);
        for (conversation, agent) in &model.owner {
            let routed = router.conversation(conversation);
            prop_assert_eq!(
                routed,
                Some(ConversationRouting::Assigned {
                    agent: agent.clone()
                })
            );
        }
        for (offer, (conversation, agent)) in &model.live {
            let view = router.offer(offer).map(|o| (o.conversation, o.agent));
            prop_assert_eq!(view, Some((conversation.clone(), agent.clone())));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_over_random_command_sequences(commands in proptest::collection::vec(cmd(), 1..80)) {
        run(commands)?;
    }
}
