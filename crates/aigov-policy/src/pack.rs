//! Rule packs: declarative TOML files that classify AI systems (see `docs/rule-packs.md`).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::expr::{self, Expr, Literal};
use crate::facts::LifecycleStage;
use crate::tier::Tier;

/// The version of the pack format this crate reads.
pub const FORMAT_VERSION: u32 = 1;

/// A pack as written in TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPack {
    pack: RawHeader,
    #[serde(default)]
    params: BTreeMap<String, toml::Value>,
    #[serde(default)]
    obligations: Vec<Obligation>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    id: String,
    version: String,
    title: String,
    #[serde(default = "default_format")]
    format: u32,
    jurisdiction: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    scope: Option<String>,
}

fn default_format() -> u32 {
    FORMAT_VERSION
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    title: String,
    #[serde(default)]
    source: String,
    tier: Tier,
    when: String,
    #[serde(default)]
    unless: Option<String>,
    applies_from: String,
    #[serde(default)]
    until: Option<String>,
    #[serde(default)]
    jurisdiction: Option<String>,
    #[serde(default)]
    obligations: Vec<String>,
    #[serde(default)]
    registration: bool,
    #[serde(default)]
    note: String,
}

/// A deadline attached to an obligation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Deadline {
    /// How many units.
    pub within: u32,
    /// The unit.
    pub unit: DeadlineUnit,
    /// The event that starts the clock (e.g. "launch of the service").
    pub after: String,
}

/// Units of a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineUnit {
    /// Hours.
    Hours,
    /// Calendar days.
    Days,
    /// Working days.
    WorkingDays,
    /// Months.
    Months,
}

/// An obligation a rule can add.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Obligation {
    /// Stable identifier, unique across all loaded packs.
    pub id: String,
    /// Short title.
    pub title: String,
    /// Legal or normative source (article, clause).
    #[serde(default)]
    pub source: String,
    /// What must be done.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Lifecycle stages it applies to (all when empty).
    #[serde(default)]
    pub stages: Vec<LifecycleStage>,
    /// Date from which the obligation applies, when later than the rule's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applies_from: Option<NaiveDate>,
    /// Deadline, if the obligation has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Deadline>,
}

/// A classification rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Stable identifier, unique across all loaded packs.
    pub id: String,
    /// Short title.
    pub title: String,
    /// Legal or normative source.
    pub source: String,
    /// Tier the rule puts a system in when it fires.
    pub tier: Tier,
    /// The condition, as written.
    pub when_text: String,
    /// The parsed condition (including the pack scope and `unless`).
    pub condition: Expr,
    /// First day the rule is in force.
    pub applies_from: NaiveDate,
    /// First day the rule is no longer in force.
    pub until: Option<NaiveDate>,
    /// Jurisdiction.
    pub jurisdiction: String,
    /// Obligations added (ids into the pack's obligations).
    pub obligations: Vec<String>,
    /// Whether firing makes registration mandatory.
    pub registration: bool,
    /// Free-text note.
    pub note: String,
}

impl Rule {
    /// Whether the rule is in force on `date`.
    pub fn in_force(&self, date: NaiveDate) -> bool {
        self.applies_from <= date && self.until.is_none_or(|u| date < u)
    }
}

/// A loaded, checked rule pack.
#[derive(Debug, Clone)]
pub struct Pack {
    /// Identifier (e.g. `eu-ai-act`).
    pub id: String,
    /// Version of the pack's content.
    pub version: String,
    /// Title.
    pub title: String,
    /// Default jurisdiction of its rules.
    pub jurisdiction: String,
    /// Description.
    pub description: String,
    /// Source of the pack as a whole.
    pub source: String,
    /// Parameters (overridable at classification).
    pub params: BTreeMap<String, Literal>,
    /// Obligations by id.
    pub obligations: BTreeMap<String, Obligation>,
    /// Rules in file order.
    pub rules: Vec<Rule>,
}

/// Severity of a lint finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The pack cannot be used.
    Error,
    /// The pack can be used but is probably wrong.
    Warning,
}

/// A problem found in a pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file (or pack name) concerned.
    pub file: String,
    /// Where in the pack: `rules[eu.art5.a].when`, `obligations[3].id`, or a `line:col`.
    pub location: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}: {sev}: {}: {}",
            self.file, self.location, self.message
        )
    }
}

fn toml_to_literal(v: &toml::Value) -> Option<Literal> {
    Some(match v {
        toml::Value::String(s) => Literal::Text(s.clone()),
        toml::Value::Integer(i) => Literal::Number(*i as f64),
        toml::Value::Float(f) => Literal::Number(*f),
        toml::Value::Boolean(b) => Literal::Bool(*b),
        toml::Value::Array(items) => {
            Literal::List(items.iter().map(toml_to_literal).collect::<Option<_>>()?)
        }
        _ => return None,
    })
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |p| before.len() - p - 1)
        + 1;
    (line, col)
}

/// Parses and checks one pack. Returns the pack (when it has no errors) and every diagnostic.
pub fn load_pack(file: &str, text: &str) -> (Option<Pack>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut diag = |severity, location: String, message: String| {
        diags.push(Diagnostic {
            severity,
            file: file.to_string(),
            location,
            message,
        })
    };
    let raw: RawPack = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            let loc = e.span().map_or_else(
                || "1:1".to_string(),
                |s| {
                    let (l, c) = line_col(text, s.start);
                    format!("{l}:{c}")
                },
            );
            diag(Severity::Error, loc, e.message().to_string());
            return (None, diags);
        }
    };
    let h = &raw.pack;
    if h.format != FORMAT_VERSION {
        diag(
            Severity::Error,
            "pack.format".into(),
            format!(
                "pack format {} is not supported (this aigov reads format {FORMAT_VERSION})",
                h.format
            ),
        );
    }
    if h.id.is_empty()
        || !h
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        diag(
            Severity::Error,
            "pack.id".into(),
            format!(
                "pack id '{}' must be non-empty ASCII letters, digits, '-' or '_'",
                h.id
            ),
        );
    }
    let mut params = BTreeMap::new();
    for (k, v) in &raw.params {
        match toml_to_literal(v) {
            Some(l) => {
                params.insert(k.clone(), l);
            }
            None => diag(
                Severity::Error,
                format!("params.{k}"),
                "a parameter must be text, a number, a boolean or a list of them".into(),
            ),
        }
    }
    let scope = match &h.scope {
        None => None,
        Some(s) => match expr::parse(s) {
            Ok(e) => {
                for t in expr::check(&e, &params) {
                    diag(Severity::Error, "pack.scope".into(), t.message);
                }
                Some(e)
            }
            Err(e) => {
                diag(
                    Severity::Error,
                    "pack.scope".into(),
                    format!("syntax error {e}"),
                );
                None
            }
        },
    };

    let mut obligations = BTreeMap::new();
    for (i, o) in raw.obligations.iter().enumerate() {
        let loc = format!(
            "obligations[{}]",
            if o.id.is_empty() {
                i.to_string()
            } else {
                o.id.clone()
            }
        );
        if o.id.is_empty() {
            diag(
                Severity::Error,
                format!("{loc}.id"),
                "obligation id is empty".into(),
            );
        }
        if o.source.trim().is_empty() {
            diag(
                Severity::Error,
                format!("{loc}.source"),
                "obligation has no source citation".into(),
            );
        }
        if obligations.insert(o.id.clone(), o.clone()).is_some() {
            diag(
                Severity::Error,
                format!("{loc}.id"),
                format!("duplicate obligation id '{}'", o.id),
            );
        }
    }

    let mut rules = Vec::new();
    let mut seen = BTreeSet::new();
    let mut used = BTreeSet::new();
    for (i, r) in raw.rules.iter().enumerate() {
        let loc = format!(
            "rules[{}]",
            if r.id.is_empty() {
                i.to_string()
            } else {
                r.id.clone()
            }
        );
        let mut ok = true;
        if r.id.is_empty() {
            diag(
                Severity::Error,
                format!("{loc}.id"),
                "rule id is empty".into(),
            );
            ok = false;
        }
        if !seen.insert(r.id.clone()) {
            diag(
                Severity::Error,
                format!("{loc}.id"),
                format!("duplicate rule id '{}'", r.id),
            );
            ok = false;
        }
        if r.source.trim().is_empty() {
            diag(
                Severity::Error,
                format!("{loc}.source"),
                "rule has no source citation".into(),
            );
            ok = false;
        }
        let mut date = |field: &str, s: &str| match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                diag(
                    Severity::Error,
                    format!("{loc}.{field}"),
                    format!("'{s}' is not a date (expected YYYY-MM-DD)"),
                );
                None
            }
        };
        let applies_from = date("applies_from", &r.applies_from);
        let until = r.until.as_deref().map(|u| date("until", u));
        let until = match until {
            Some(None) => {
                ok = false;
                None
            }
            Some(Some(u)) => Some(u),
            None => None,
        };
        if let (Some(a), Some(u)) = (applies_from, until)
            && u <= a
        {
            diag(
                Severity::Error,
                format!("{loc}.until"),
                format!("until ({u}) is not after applies_from ({a})"),
            );
            ok = false;
        }
        let mut parse_cond = |field: &str, text: &str| match expr::parse(text) {
            Ok(e) => {
                let errs = expr::check(&e, &params);
                for t in &errs {
                    diag(Severity::Error, format!("{loc}.{field}"), t.message.clone());
                }
                if errs.is_empty() { Some(e) } else { None }
            }
            Err(e) => {
                diag(
                    Severity::Error,
                    format!("{loc}.{field}"),
                    format!("syntax error {e}"),
                );
                None
            }
        };
        let when = parse_cond("when", &r.when);
        let unless = r.unless.as_deref().map(|u| parse_cond("unless", u));
        for o in &r.obligations {
            used.insert(o.clone());
            if !obligations.contains_key(o) {
                diag(
                    Severity::Error,
                    format!("{loc}.obligations"),
                    format!("obligation '{o}' is not defined in this pack"),
                );
                ok = false;
            }
        }
        let (Some(when), Some(applies_from)) = (when, applies_from) else {
            continue;
        };
        let unless = match unless {
            Some(None) => continue,
            Some(Some(u)) => Some(u),
            None => None,
        };
        if !ok {
            continue;
        }
        let mut parts = Vec::new();
        if let Some(s) = &scope {
            parts.push(s.clone());
        }
        parts.push(when);
        if let Some(u) = unless {
            parts.push(Expr::Not(Box::new(u)));
        }
        let condition = if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        };
        rules.push(Rule {
            id: r.id.clone(),
            title: r.title.clone(),
            source: r.source.clone(),
            tier: r.tier,
            when_text: r.when.clone(),
            condition,
            applies_from,
            until,
            jurisdiction: r
                .jurisdiction
                .clone()
                .unwrap_or_else(|| h.jurisdiction.clone()),
            obligations: r.obligations.clone(),
            registration: r.registration,
            note: r.note.clone(),
        });
    }
    for id in obligations.keys() {
        if !used.contains(id) {
            diag(
                Severity::Warning,
                format!("obligations[{id}]"),
                "obligation is defined but no rule adds it".into(),
            );
        }
    }
    if raw.rules.is_empty() {
        diag(
            Severity::Warning,
            "rules".into(),
            "pack has no rules".into(),
        );
    }
    let has_errors = diags.iter().any(|d| d.severity == Severity::Error);
    let pack = (!has_errors).then(|| Pack {
        id: h.id.clone(),
        version: h.version.clone(),
        title: h.title.clone(),
        jurisdiction: h.jurisdiction.clone(),
        description: h.description.clone(),
        source: h.source.clone(),
        params,
        obligations,
        rules,
    });
    (pack, diags)
}

/// A set of packs that classify together.
#[derive(Debug, Clone, Default)]
pub struct PackSet {
    packs: Vec<Pack>,
}

impl PackSet {
    /// Builds a set, refusing rule or obligation ids that clash between packs.
    pub fn new(packs: Vec<Pack>) -> Result<Self> {
        let diags = cross_pack_diagnostics(&packs);
        if let Some(d) = diags.into_iter().next() {
            return Err(Error::Pack(d));
        }
        Ok(PackSet { packs })
    }

    /// The packs.
    pub fn packs(&self) -> &[Pack] {
        &self.packs
    }

    /// Overrides a parameter: `pack_id.name = value`. The value must fit every condition that
    /// uses the parameter (a number where a number is compared, known enum values in a list).
    pub fn set_param(&mut self, pack_id: &str, name: &str, value: Literal) -> Result<()> {
        let pack = self
            .packs
            .iter_mut()
            .find(|p| p.id == pack_id)
            .ok_or_else(|| Error::UnknownParam(format!("{pack_id}.{name}: no pack '{pack_id}'")))?;
        let Some(slot) = pack.params.get_mut(name) else {
            return Err(Error::UnknownParam(format!(
                "{pack_id}.{name}: pack '{pack_id}' has no parameter '{name}'"
            )));
        };
        let old = std::mem::replace(slot, value);
        // The new value must fit every condition that uses it, as the old one did.
        let problems: Vec<String> = pack
            .rules
            .iter()
            .flat_map(|r| expr::check(&r.condition, &pack.params))
            .map(|t| t.message)
            .collect();
        if let Some(first) = problems.first() {
            let msg = format!("{pack_id}.{name}: the new value does not fit: {first}");
            pack.params.insert(name.to_string(), old);
            return Err(Error::UnknownParam(msg));
        }
        Ok(())
    }
}

/// Diagnostics that only appear when packs are combined (clashing ids).
pub fn cross_pack_diagnostics(packs: &[Pack]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut rule_ids: BTreeMap<&str, &str> = BTreeMap::new();
    let mut obl_ids: BTreeMap<&str, &str> = BTreeMap::new();
    let mut pack_ids = BTreeSet::new();
    for p in packs {
        if !pack_ids.insert(p.id.as_str()) {
            out.push(Diagnostic {
                severity: Severity::Error,
                file: p.id.clone(),
                location: "pack.id".into(),
                message: format!("pack id '{}' is used by more than one pack", p.id),
            });
        }
        for r in &p.rules {
            if let Some(other) = rule_ids.insert(&r.id, &p.id) {
                out.push(Diagnostic {
                    severity: Severity::Error,
                    file: p.id.clone(),
                    location: format!("rules[{}].id", r.id),
                    message: format!("rule id '{}' is also used in pack '{other}'", r.id),
                });
            }
        }
        for o in p.obligations.keys() {
            if let Some(other) = obl_ids.insert(o, &p.id) {
                out.push(Diagnostic {
                    severity: Severity::Error,
                    file: p.id.clone(),
                    location: format!("obligations[{o}].id"),
                    message: format!("obligation id '{o}' is also used in pack '{other}'"),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[pack]
id = "t"
version = "1"
title = "Test"
jurisdiction = "EU"
scope = "jurisdictions has 'EU'"

[params]
threshold = 1e25

[[obligations]]
id = "t.o1"
title = "Do it"
source = "Art. 1"
deadline = { within = 10, unit = "working_days", after = "launch" }

[[rules]]
id = "t.r1"
title = "Big"
source = "Art. 2"
tier = "high"
when = "training_compute_flop > $threshold"
applies_from = "2025-01-01"
obligations = ["t.o1"]
"#;

    #[test]
    fn loads_a_good_pack() {
        let (p, d) = load_pack("t.toml", GOOD);
        assert!(d.is_empty(), "{d:?}");
        let p = p.unwrap();
        assert_eq!(p.rules.len(), 1);
        assert_eq!(
            p.rules[0].condition.to_string(),
            "jurisdictions has 'EU' and training_compute_flop > $threshold"
        );
    }

    fn messages(text: &str) -> Vec<String> {
        load_pack("x.toml", text)
            .1
            .iter()
            .map(|d| d.to_string())
            .collect()
    }

    #[test]
    fn lint_messages_are_precise() {
        let bad = GOOD
            .replace("training_compute_flop > $threshold", "flops > 1")
            .replace("2025-01-01", "2025-13-01")
            .replace("[\"t.o1\"]", "[\"t.o2\"]");
        let m = messages(&bad);
        assert!(
            m.contains(&"x.toml: error: rules[t.r1].when: unknown fact 'flops'".to_string()),
            "{m:?}"
        );
        assert!(
            m.iter()
                .any(|s| s.contains("rules[t.r1].applies_from: '2025-13-01' is not a date")),
            "{m:?}"
        );
        assert!(
            m.iter()
                .any(|s| s.contains("obligation 't.o2' is not defined")),
            "{m:?}"
        );
        assert!(
            m.iter().any(|s| s.contains("warning: obligations[t.o1]")),
            "{m:?}"
        );

        let m = messages(&GOOD.replace("source = \"Art. 2\"", "source = \"\""));
        assert!(
            m.iter()
                .any(|s| s.contains("rules[t.r1].source: rule has no source")),
            "{m:?}"
        );

        let m = messages(&GOOD.replace("tier = \"high\"", "tier = \"severe\""));
        assert!(m[0].starts_with("x.toml: error: 22:8:"), "{m:?}");
        assert!(m[0].contains("severe"), "{m:?}");

        let m = messages(&GOOD.replace("title = \"Big\"", "title = \"Big\"\ncolour = 1"));
        assert!(m[0].contains("unknown field `colour`"), "{m:?}");
    }

    #[test]
    fn cross_pack_clashes() {
        let (a, _) = load_pack("a", GOOD);
        let (b, _) = load_pack("b", &GOOD.replace("id = \"t\"", "id = \"u\""));
        let err = PackSet::new(vec![a.unwrap(), b.unwrap()]).unwrap_err();
        assert!(
            err.to_string()
                .contains("rule id 't.r1' is also used in pack 't'"),
            "{err}"
        );
    }
}
