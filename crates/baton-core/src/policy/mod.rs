//! The decision policy: every threshold, weight and list the signals and `decide` use,
//! as one TOML document. The built-in default is `policy/default.toml`, compiled in,
//! so the file operators copy and the values the code runs are the same bytes.
//!
//! A policy file is merged over the default (tables key by key, lists wholesale), then
//! checked; errors name the line. docs/policy.md describes each setting.

mod load;
mod pattern;
mod validate;

use serde::{Deserialize, Serialize};

use crate::event::Priority;
use crate::label::Label;

pub use load::PolicyError;
pub use pattern::{IntentPattern, PatternError, any_matches};

/// The built-in default policy, as shipped in `policy/default.toml`.
pub const DEFAULT_POLICY_TOML: &str = include_str!("../../policy/default.toml");

/// The whole policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Name recorded in decisions.
    pub name: String,
    /// Version recorded in decisions (`name@version`).
    pub version: String,
    /// Skills a handoff asks for when no intent rule matches.
    pub default_skills: Vec<Label>,
    /// Skills routing may fall back to when nobody with the required skills is free.
    pub fallback_skills: Vec<Label>,
    /// Customer sentiment and its trend.
    pub sentiment: SentimentPolicy,
    /// Shouting, insults, "third time I'm writing".
    pub frustration: FrustrationPolicy,
    /// The bot's NLU confidence.
    pub confidence: ConfidencePolicy,
    /// Rephrasing customers and repeating bots.
    pub loops: LoopPolicy,
    /// Explicit requests for a human.
    pub explicit: ExplicitPolicy,
    /// Keyword-only requests on routine intents.
    pub gaming: GamingPolicy,
    /// Offers and their answers.
    pub offer: OfferPolicy,
    /// Topics that always reach a human.
    pub risk: RiskPolicy,
    /// The predicted-failure model.
    pub failure: FailurePolicy,
    /// How agent capacity shifts handoffs to offers.
    pub capacity: CapacityPolicy,
    /// Priority per reason kind.
    pub priority: PriorityPolicy,
    /// Storage limitation: how long closed conversations are kept.
    #[serde(default, skip_serializing_if = "RetentionPolicy::is_unset")]
    pub retention: RetentionPolicy,
    /// Fact extraction: id patterns, account tiers, words that are not names.
    #[serde(default)]
    pub facts: crate::facts::FactConfig,
    /// Intent -> skills, first match wins.
    #[serde(default)]
    pub skills: Vec<SkillRule>,
    /// Intent -> next steps for the agent, first match wins.
    #[serde(default)]
    pub playbooks: Vec<Playbook>,
}

/// `[sentiment]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentimentPolicy {
    /// EMA weight of the newest message, in (0, 1].
    pub smoothing: f64,
    /// Messages the slope is fitted over (2..=32).
    pub slope_window: usize,
    /// Messages needed before sentiment triggers anything.
    pub min_messages: u32,
    /// Smoothed level at or below which baton hands off.
    pub handoff_level: f64,
    /// Slope at or below which (with the gate) baton hands off.
    pub handoff_slope: f64,
    /// Level the slope rule also requires.
    pub slope_level_gate: f64,
    /// Messages scoring at or below this are not calm.
    pub calm_floor: f64,
}

/// `[frustration]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrustrationPolicy {
    /// Level (0..1) at or above which baton hands off.
    pub handoff_level: f64,
    /// Share of the previous level each message keeps.
    pub decay: f64,
    /// Letters needed before capitals count as shouting.
    pub shouting_min_letters: usize,
    /// Share of capitals that makes shouting.
    pub shouting_ratio: f64,
    /// Weight of shouting.
    pub weight_shouting: f64,
    /// Weight of `!!`, `??`, `?!`.
    pub weight_punctuation: f64,
    /// Weight of an insult.
    pub weight_insult: f64,
    /// Weight of a repeat claim.
    pub weight_repeat_claim: f64,
    /// Insult words.
    pub insults: Vec<String>,
    /// Repeat-claim phrases.
    pub repeat_claims: Vec<String>,
    /// Messages in a row, each angrier than the one before, that hand off.
    pub rising_messages: u32,
    /// How much angrier (mood units) a message must be to continue the run.
    pub rising_step: f64,
    /// Anger (0..1) the newest message of the run must reach.
    pub rising_floor: f64,
}

/// `[confidence]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfidencePolicy {
    /// Confidence below this is low.
    pub low: f64,
    /// Low results in a row that trigger a handoff.
    pub streak_handoff: u32,
    /// Phrases that, in a bot message, ask the customer to rephrase: the bot did not
    /// understand that turn, whatever its NLU said.
    pub rephrase_prompts: Vec<String>,
    /// Intents meaning "not understood".
    pub fallback_intents: Vec<IntentPattern>,
    /// Intents that ask for a human instead of naming a task: a pattern matches the
    /// whole intent name or one of its words (runs of ASCII letters and digits).
    pub human_intents: Vec<IntentPattern>,
    /// Which confidence the signal reads: the bot's own (`raw`) or `learned`.
    #[serde(default)]
    pub calibration: CalibrationMode,
    /// The fitted maps `calibration = "learned"` reads (written by `baton train`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learned: Option<crate::insights::calibration::Calibration>,
}

/// `confidence.calibration`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalibrationMode {
    /// The bot's confidence as sent.
    #[default]
    Raw,
    /// The bot's confidence through `confidence.learned`.
    Learned,
}

impl ConfidencePolicy {
    /// The confidence the signal reads for the bot's `raw` confidence in `intent`.
    pub fn calibrated(&self, intent: &str, raw: f64) -> f64 {
        match (self.calibration, &self.learned) {
            (CalibrationMode::Learned, Some(learned)) => learned.apply(intent, raw),
            _ => raw,
        }
    }

    /// Whether the signal reads calibrated confidence.
    pub fn is_learned(&self) -> bool {
        self.calibration == CalibrationMode::Learned && self.learned.is_some()
    }
}

/// `[loops]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoopPolicy {
    /// Jaccard overlap that makes a rephrasing.
    pub rephrase_similarity: f64,
    /// Jaccard overlap that makes a repeated bot answer.
    pub repeat_similarity: f64,
    /// Previous messages compared (1..=16).
    pub window: usize,
    /// Loop score that triggers a handoff.
    pub handoff_score: f64,
    /// Share of the loop score each customer message keeps.
    pub decay: f64,
    /// Content words a message needs to count.
    pub min_words: usize,
}

/// `[explicit]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplicitPolicy {
    /// Whether customer text is scanned for requests.
    pub enabled: bool,
    /// Phrases that always count as a request.
    pub extra_phrases: Vec<String>,
}

/// `[gaming]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GamingPolicy {
    /// Only the first this-many customer messages are checked.
    pub max_turn: u32,
    /// NLU confidence needed to call the intent understood.
    pub min_confidence: f64,
    /// Routine intents.
    pub routine_intents: Vec<IntentPattern>,
}

/// `[offer]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferPolicy {
    /// Customer messages after an offer during which no new offer is made.
    pub cooldown_turns: u32,
    /// Whole-message answers that accept an offer.
    pub accept_phrases: Vec<String>,
}

/// `[risk]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskPolicy {
    /// Intents that always hand off.
    pub intents: Vec<IntentPattern>,
    /// Confidence from which a risk intent counts.
    pub min_confidence: f64,
    /// Phrases in customer text that count as risk.
    pub phrases: Vec<String>,
    /// Priority of a risk handoff.
    pub priority: Priority,
    /// Skills added to a risk handoff.
    pub skills: Vec<Label>,
}

/// `[failure]`: the logistic model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailurePolicy {
    /// Intercept.
    pub bias: f64,
    /// Weight of negativity.
    pub weight_negativity: f64,
    /// Weight of decline.
    pub weight_decline: f64,
    /// Weight of frustration.
    pub weight_frustration: f64,
    /// Weight of the low-confidence streak.
    pub weight_low_confidence: f64,
    /// Weight of the loop score.
    pub weight_loop: f64,
    /// Weight of thread length.
    pub weight_length: f64,
    /// Probability that hands off.
    pub handoff: f64,
    /// Probability that offers.
    pub offer: f64,
}

/// `[capacity]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapacityPolicy {
    /// Expected wait above which non-urgent handoffs become offers.
    pub max_wait_secs: f64,
    /// Whether capacity is considered at all.
    pub enabled: bool,
}

/// `[retention]`: erase resolved conversations once closed this long (GDPR's
/// storage limitation). Unset by default: nothing is erased on a timer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionPolicy {
    /// Days a resolved conversation is kept after its last event.
    #[serde(default)]
    pub closed_after_days: Option<u32>,
}

impl RetentionPolicy {
    /// The longest retention a policy may set: a hundred years.
    pub const MAX_DAYS: u32 = 36_500;

    fn is_unset(&self) -> bool {
        self.closed_after_days.is_none()
    }
}

/// `[priority]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityPolicy {
    /// A bot request without its own priority.
    pub bot_request: Priority,
    /// An explicit customer request.
    pub explicit_request: Priority,
    /// Negative or falling sentiment.
    pub negative_sentiment: Priority,
    /// Frustration.
    pub frustration: Priority,
    /// Low confidence streak.
    pub low_confidence: Priority,
    /// Loops.
    pub loop_detected: Priority,
    /// The failure model.
    pub predicted_failure: Priority,
}

/// `[[skills]]`: intent pattern -> skills.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillRule {
    /// Which intents.
    pub intent: IntentPattern,
    /// Skills they need.
    pub skills: Vec<Label>,
}

/// `[[playbooks]]`: intent pattern -> next steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    /// Which intents.
    pub intent: IntentPattern,
    /// Steps, in order.
    pub steps: Vec<String>,
}

impl Policy {
    /// `name@version`, as recorded in `Decision.policy`.
    pub fn label(&self) -> Option<Label> {
        Label::parse(format!("{}@{}", self.name, self.version)).ok()
    }

    /// Skills for `intent` from the first matching rule, if any.
    pub fn skills_for(&self, intent: &str) -> Option<&[Label]> {
        self.skills
            .iter()
            .find(|r| r.intent.matches(intent))
            .map(|r| r.skills.as_slice())
    }

    /// Next steps for `intent` from the first matching playbook, if any.
    pub fn playbook_for(&self, intent: &str) -> Option<&[String]> {
        self.playbooks
            .iter()
            .find(|p| p.intent.matches(intent))
            .map(|p| p.steps.as_slice())
    }
}

impl Default for Policy {
    fn default() -> Self {
        // The file is compiled in and checked by a test; failing here is a build defect.
        #[allow(clippy::expect_used)]
        Policy::from_toml_str(DEFAULT_POLICY_TOML).expect("the built-in policy is valid")
    }
}
