//! Resolving a dry-run: which targets, which settings, which exact requests.

use serde::Serialize;
use serde_json::Value;

use crate::config::{PolicyConfig, Price, ProviderConfig, ProviderKind, RouteConfig};
use crate::error::Error;
use crate::params::{validate_messages, Message, ModelParams};
use crate::report::{usd, OfflinePlan, SkipReason, TargetPlan};
use crate::secret::{ApiKey, Redactor};
use crate::tokens::{count_messages, CountRule, TokenCount};
use crate::wire::{build, max_tokens_param_for, BuildParams, WireRequest};

/// Deadline when neither the route nor anything else gives a latency objective.
pub const DEFAULT_SLO_MS: u64 = 30_000;
/// Output limit when neither the prompt nor the provider gives one. Always sent, so that the
/// worst-case cost is bounded.
pub const DEFAULT_MAX_TOKENS: u64 = 1024;
pub const DEFAULT_RETRIES: u32 = 1;
pub const DEFAULT_BACKOFF_MS: u64 = 100;
/// Comparing dollars computed in f64: a worst case equal to the budget fits.
pub(crate) const USD_EPSILON: f64 = 1e-9;

/// `--route NAME` / `--provider ID`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub route: Option<String>,
    pub provider: Option<String>,
}

/// Everything the CLI hands over.
pub struct DryRunInput<'a> {
    pub policy: &'a PolicyConfig,
    /// The rendered messages.
    pub messages: Vec<Message>,
    /// The prompt's `model:` block (`Value::Null` when absent).
    pub model: &'a Value,
    pub overrides: Overrides,
    /// Environment lookup, e.g. `&promptctl_provider::process_env`. Only the variables named by
    /// the selected providers' `api_key_env` are read.
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// Reads the real process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// How the targets were chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Selection {
    /// The route whose targets or settings apply, if any.
    pub route: Option<String>,
    /// `--provider`, `--route`, `model.provider`, `model.route` or `default route`.
    pub chosen_by: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Settings {
    pub budget_usd: Option<f64>,
    pub latency_slo_ms: u64,
    /// False when no route gave `latency_slo_ms` and [`DEFAULT_SLO_MS`] applies.
    pub latency_slo_from_policy: bool,
    pub retries_per_target: u32,
    pub retry_backoff_ms: u64,
    pub attempt_timeout_ms: Option<u64>,
    pub stream: bool,
    pub first_token_timeout_ms: Option<u64>,
}

#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub id: String,
    pub kind: ProviderKind,
    pub model: String,
    pub rule: CountRule,
    pub max_tokens: u64,
    pub context_window: Option<u64>,
    pub price: Option<Price>,
    pub retries: u32,
    /// Err: these messages cannot be sent to this kind (reason).
    pub wire: Result<WireRequest, String>,
    /// Set when `api_key_env` names a variable that is not set.
    pub key_missing: Option<String>,
    pub notes: Vec<String>,
}

impl Target {
    pub fn worst_case(&self, input_tokens: u64) -> Option<f64> {
        self.price.map(|p| usd(input_tokens as f64 * p.input / 1e6 + self.max_tokens as f64 * p.output / 1e6))
    }

    pub fn cost(&self, input: u64, output: u64) -> Option<f64> {
        self.price.map(|p| usd(input as f64 * p.input / 1e6 + output as f64 * p.output / 1e6))
    }

    /// Reasons known before anything is counted or sent.
    pub fn static_skip(&self, budget: Option<f64>) -> Option<SkipReason> {
        if let Err(m) = &self.wire {
            return Some(SkipReason::Unsupported { message: m.clone() });
        }
        if let Some(env) = &self.key_missing {
            return Some(SkipReason::MissingApiKey { env: env.clone() });
        }
        if budget.is_some() && self.price.is_none() {
            return Some(SkipReason::UnknownPrice);
        }
        None
    }
}

/// A prepared dry-run: targets resolved, requests built, keys read. Cheap to keep around;
/// [`DryRun::plan_offline`] and [`DryRun::run`] can both be called on it.
#[derive(Clone)]
pub struct DryRun {
    pub(crate) selection: Selection,
    pub(crate) settings: Settings,
    pub(crate) targets: Vec<Target>,
    pub(crate) messages: Vec<Message>,
    pub(crate) warnings: Vec<String>,
    pub(crate) redactor: Redactor,
}

impl std::fmt::Debug for DryRun {
    // Keys are typed and print as [redacted], but a prompt may carry a key pasted into a
    // variable: run the whole text through the redactor too.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let raw = format!(
            "DryRun {{ selection: {:?}, settings: {:?}, targets: {:?}, messages: {:?}, warnings: {:?} }}",
            self.selection, self.settings, self.targets, self.messages, self.warnings
        );
        f.write_str(&self.redactor.clean(&raw))
    }
}

struct Choice<'p> {
    route: Option<(&'p str, &'p RouteConfig)>,
    target_ids: Vec<String>,
    chosen_by: &'static str,
}

fn route<'p>(policy: &'p PolicyConfig, name: &str, source_of: &str) -> Result<(&'p str, &'p RouteConfig), Error> {
    policy.routing.get_key_value(name).map(|(k, v)| (k.as_str(), v)).ok_or_else(|| Error::UnknownRoute {
        name: name.into(),
        source_of: source_of.into(),
        known: policy.known_routes(),
    })
}

fn choose<'p>(policy: &'p PolicyConfig, params: &ModelParams, ov: &Overrides) -> Result<Choice<'p>, Error> {
    // Route for settings (budget, SLO) when a single provider is picked: the prompt's route,
    // else `default` if there is one.
    let settings_route = |policy: &'p PolicyConfig| -> Result<Option<(&'p str, &'p RouteConfig)>, Error> {
        match &params.route {
            Some(r) => route(policy, r, "model.route").map(Some),
            None => Ok(policy.routing.get_key_value("default").map(|(k, v)| (k.as_str(), v))),
        }
    };
    if ov.route.is_some() && ov.provider.is_some() {
        return Err(Error::ConflictingOverrides);
    }
    if let Some(p) = &ov.provider {
        return Ok(Choice { route: settings_route(policy)?, target_ids: vec![p.clone()], chosen_by: "--provider" });
    }
    if let Some(r) = &ov.route {
        let rt = route(policy, r, "--route")?;
        return Ok(Choice { target_ids: rt.1.target_ids(), route: Some(rt), chosen_by: "--route" });
    }
    if let Some(p) = &params.provider {
        return Ok(Choice { route: settings_route(policy)?, target_ids: vec![p.clone()], chosen_by: "model.provider" });
    }
    if let Some(r) = &params.route {
        let rt = route(policy, r, "model.route")?;
        return Ok(Choice { target_ids: rt.1.target_ids(), route: Some(rt), chosen_by: "model.route" });
    }
    match policy.routing.get_key_value("default") {
        Some((k, v)) => {
            Ok(Choice { target_ids: v.target_ids(), route: Some((k.as_str(), v)), chosen_by: "default route" })
        }
        None => Err(Error::NoTarget),
    }
}

impl DryRun {
    /// Validates everything, resolves targets, builds each exact request, reads the API keys.
    /// Errors here mean the prompt, its variables or the policy are invalid: nothing was sent.
    pub fn prepare(input: DryRunInput<'_>) -> Result<DryRun, Error> {
        input.policy.validate()?;
        validate_messages(&input.messages)?;
        let params = ModelParams::from_value(input.model)?;
        let choice = choose(input.policy, &params, &input.overrides)?;
        let rc = choice.route.map(|(_, r)| r.clone()).unwrap_or_default();
        let stream = params.stream.or(rc.stream).unwrap_or(false);
        let settings = Settings {
            budget_usd: rc.max_token_budget_usd,
            latency_slo_ms: rc.latency_slo_ms.unwrap_or(DEFAULT_SLO_MS),
            latency_slo_from_policy: rc.latency_slo_ms.is_some(),
            retries_per_target: rc.retries_per_target.unwrap_or(DEFAULT_RETRIES),
            retry_backoff_ms: rc.retry_backoff_ms.unwrap_or(DEFAULT_BACKOFF_MS),
            attempt_timeout_ms: rc.attempt_timeout_ms,
            stream,
            first_token_timeout_ms: rc.first_token_timeout_ms,
        };
        let mut warnings: Vec<String> = params
            .ignored_keys
            .iter()
            .map(|k| format!("model.{k} is not a parameter promptctl sends; ignored"))
            .collect();
        if rc.first_token_timeout_ms.is_some() && !stream {
            warnings.push("first_token_timeout_ms only applies when streaming; ignored".into());
        }
        let mut redactor = Redactor::default();
        let mut targets = vec![];
        for id in &choice.target_ids {
            let cfg: ProviderConfig = input.policy.provider(id).ok_or_else(|| Error::UnknownProvider {
                id: id.clone(),
                source_of: choice.chosen_by.into(),
                known: input.policy.known_providers(),
            })?;
            let model = cfg.model.clone().unwrap_or_else(|| "echo".into());
            let mut notes = vec![];
            let mut max_tokens = params.max_tokens.or(cfg.max_output_tokens).unwrap_or(DEFAULT_MAX_TOKENS);
            if let Some(cap) = cfg.max_output_tokens {
                if max_tokens > cap {
                    notes.push(format!("max_tokens {max_tokens} lowered to this provider's max_output_tokens {cap}"));
                    max_tokens = cap;
                }
            }
            let (key, key_missing) = match &cfg.api_key_env {
                Some(var) => match (input.env)(var).filter(|v| !v.is_empty()) {
                    Some(v) => {
                        let k = ApiKey::new(v);
                        redactor.add(&k);
                        (Some(k), None)
                    }
                    None => (None, Some(var.clone())),
                },
                None => (None, None),
            };
            let bp = BuildParams {
                kind: cfg.kind,
                base_url: cfg.base_url.as_deref(),
                model: &model,
                messages: &input.messages,
                temperature: params.temperature,
                top_p: params.top_p,
                stop: &params.stop,
                seed: params.seed,
                max_tokens,
                max_tokens_param: cfg.max_tokens_param.unwrap_or_else(|| max_tokens_param_for(&model)),
                stream,
                context_window: cfg.context_window,
                key,
                has_key_env: cfg.api_key_env.is_some(),
            };
            let wire = build(&bp, &mut notes);
            if cfg.kind == ProviderKind::Echo && stream {
                notes.push("echo answers at once; streaming does not apply".into());
            }
            targets.push(Target {
                id: id.clone(),
                kind: cfg.kind,
                rule: CountRule::for_target(cfg.kind, &model, cfg.token_estimate_margin),
                model,
                max_tokens,
                context_window: cfg.context_window,
                // Echo costs nothing by construction; everything else without a price is unknown.
                price: cfg
                    .price_per_mtok
                    .or((cfg.kind == ProviderKind::Echo).then_some(Price { input: 0.0, output: 0.0 })),
                retries: cfg.retries.unwrap_or(settings.retries_per_target),
                wire,
                key_missing,
                notes,
            });
        }
        Ok(DryRun {
            selection: Selection {
                route: choice.route.map(|(n, _)| n.to_string()),
                chosen_by: choice.chosen_by.into(),
            },
            settings,
            targets,
            messages: input.messages,
            warnings,
            redactor,
        })
    }

    pub fn selection(&self) -> &Selection {
        &self.selection
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Target ids in routing order.
    pub fn target_ids(&self) -> Vec<&str> {
        self.targets.iter().map(|t| t.id.as_str()).collect()
    }

    /// What each target would be sent, with token counts and worst-case cost against the
    /// budget. No network. Counts with tiktoken (first call loads the table: ~0.2 s).
    pub fn plan_offline(&self) -> OfflinePlan {
        let budget = self.settings.budget_usd;
        let targets = self
            .targets
            .iter()
            .map(|t| {
                let raw = count_messages(t.rule.encoding, t.rule.per_message, &self.messages);
                let input: TokenCount = match raw {
                    Some(r) => t.rule.count(r),
                    None => t.rule.bound(&self.messages),
                };
                let worst = t.worst_case(input.tokens);
                let mut skip = t.static_skip(budget);
                if skip.is_none() {
                    if let Some(w) = t.context_window.filter(|w| input.tokens > *w) {
                        skip =
                            Some(SkipReason::ContextWindowExceeded { input_tokens: input.tokens, context_window: w });
                    }
                }
                let within_budget = match (budget, worst) {
                    (Some(b), Some(w)) => Some(w <= b + USD_EPSILON),
                    (Some(_), None) => Some(false),
                    (None, _) => None,
                };
                if skip.is_none() && within_budget == Some(false) {
                    if let (Some(b), Some(w)) = (budget, worst) {
                        skip = Some(SkipReason::OverBudget { worst_case_usd: w, remaining_usd: usd(b) });
                    }
                }
                TargetPlan {
                    target: t.id.clone(),
                    kind: t.kind,
                    model: t.model.clone(),
                    request: t.wire.as_ref().ok().map(|w| {
                        let mut p = w.preview();
                        p.url = self.redactor.clean(&p.url);
                        p.body = self.redactor.clean_json(&p.body);
                        p
                    }),
                    input_tokens: input,
                    max_tokens: t.max_tokens,
                    context_window: t.context_window,
                    price_per_mtok: t.price,
                    worst_case_cost_usd: worst,
                    within_budget,
                    would_skip: skip,
                    retries: t.retries,
                    notes: t.notes.iter().map(|n| self.redactor.clean(n)).collect(),
                }
            })
            .collect();
        OfflinePlan {
            mode: "offline".into(),
            selection: self.selection.clone(),
            settings: self.settings.clone(),
            targets,
            warnings: self.warnings.clone(),
        }
    }
}
