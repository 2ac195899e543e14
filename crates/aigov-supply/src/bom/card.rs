//! Hugging Face model cards: the YAML front matter of `README.md` and the sections of its
//! body that describe intended use and limitations.

use serde_json::{Map, Value};

/// Largest front matter read (bytes).
const MAX_FRONT_MATTER: usize = 256 * 1024;

/// One evaluation result from `model-index`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EvalResult {
    /// Task type (`text-classification`).
    pub task: String,
    /// Dataset id (`stanfordnlp/imdb`).
    pub dataset: String,
    /// Dataset pretty name.
    pub dataset_name: Option<String>,
    /// Split (`test`).
    pub split: Option<String>,
    /// Metric id (`accuracy`).
    pub metric: String,
    /// Value as written (numbers are turned into their decimal text).
    pub value: String,
}

/// What a model card declares.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ModelCard {
    /// `license` (Hugging Face id, e.g. `apache-2.0`, `llama3`, `other`).
    pub license: Option<String>,
    /// `license_name` (with `license: other`).
    pub license_name: Option<String>,
    /// `license_link`.
    pub license_link: Option<String>,
    /// `base_model` (several for merges).
    pub base_models: Vec<String>,
    /// `base_model_relation` (`finetune`, `adapter`, `merge`, `quantized`).
    pub base_model_relation: Option<String>,
    /// `datasets`.
    pub datasets: Vec<String>,
    /// `metrics` (metric ids).
    pub metrics: Vec<String>,
    /// `pipeline_tag`.
    pub pipeline_tag: Option<String>,
    /// `library_name`.
    pub library_name: Option<String>,
    /// `language`.
    pub languages: Vec<String>,
    /// `tags`.
    pub tags: Vec<String>,
    /// `model-index` results.
    pub results: Vec<EvalResult>,
    /// `co2_eq_emissions.emissions` (grams of CO2 equivalent).
    pub co2_grams: Option<f64>,
    /// The body's intended-use section, if any.
    pub intended_use: Option<String>,
    /// The body's limitations section, if any.
    pub limitations: Option<String>,
    /// The body's first paragraph (a description).
    pub description: Option<String>,
}

/// A card that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("model card: {0}")]
pub struct CardError(pub String);

fn yaml_to_json(y: &yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match y {
        Yaml::Real(s) => s
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(s.clone()), Value::Number),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(a) => Value::Array(a.iter().map(yaml_to_json).collect()),
        Yaml::Hash(h) => {
            let mut m = Map::new();
            for (k, v) in h {
                let key = match k {
                    Yaml::String(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Real(r) => r.clone(),
                    Yaml::Boolean(b) => b.to_string(),
                    _ => continue,
                };
                m.insert(key, yaml_to_json(v));
            }
            Value::Object(m)
        }
        _ => Value::Null,
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn list(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().filter_map(text).collect(),
        other => text(other).into_iter().collect(),
    }
}

/// Splits `README.md` into its front matter (YAML text) and body.
fn split(readme: &str) -> (Option<&str>, &str) {
    let t = readme.strip_prefix('\u{feff}').unwrap_or(readme);
    let Some(rest) = t.strip_prefix("---") else {
        return (None, t);
    };
    let Some(rest) = rest
        .strip_prefix('\n')
        .or_else(|| rest.strip_prefix("\r\n"))
    else {
        return (None, t);
    };
    // The closing line is `---` (or `...`) on its own.
    let mut pos = 0;
    for line in rest.split_inclusive('\n') {
        let l = line.trim_end();
        if l == "---" || l == "..." {
            return (Some(&rest[..pos]), &rest[pos + line.len()..]);
        }
        pos += line.len();
    }
    (None, t)
}

/// Measures a YAML document with the event parser, which neither expands aliases nor
/// recurses: the nesting depth and the number of nodes the loader would build (each alias
/// copies its anchor's whole subtree).
#[derive(Default)]
struct Measure {
    depth: usize,
    max_depth: usize,
    /// Nodes counted in each open collection (the outermost first).
    open: Vec<(usize, u64)>,
    /// Node count of each anchored subtree, by anchor id.
    anchors: std::collections::HashMap<usize, u64>,
    nodes: u64,
}

impl Measure {
    /// Counts `n` new nodes, in the whole document and in the innermost open collection.
    fn add(&mut self, n: u64) {
        self.nodes = self.nodes.saturating_add(n);
        self.add_to_parent(n);
    }

    /// Counts `n` nodes (already counted in the document) in the innermost open collection.
    fn add_to_parent(&mut self, n: u64) {
        if let Some(top) = self.open.last_mut() {
            top.1 = top.1.saturating_add(n);
        }
    }
}

impl yaml_rust2::parser::EventReceiver for Measure {
    fn on_event(&mut self, ev: yaml_rust2::Event) {
        use yaml_rust2::Event;
        match ev {
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                self.depth += 1;
                self.max_depth = self.max_depth.max(self.depth);
                self.open.push((anchor, 1));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                self.depth = self.depth.saturating_sub(1);
                if let Some((anchor, n)) = self.open.pop() {
                    if anchor > 0 {
                        self.anchors.insert(anchor, n);
                    }
                    self.nodes = self.nodes.saturating_add(1);
                    self.add_to_parent(n);
                }
            }
            Event::Scalar(_, _, anchor, _) => {
                if anchor > 0 {
                    self.anchors.insert(anchor, 1);
                }
                self.add(1);
            }
            Event::Alias(id) => {
                let n = self.anchors.get(&id).copied().unwrap_or(1);
                self.add(n);
            }
            _ => {}
        }
    }
}

/// Deepest nesting accepted in front matter.
const MAX_DEPTH: usize = 64;
/// Most nodes the loaded front matter may have (aliases counted expanded).
const MAX_NODES: u64 = 200_000;

fn check_yaml(yaml: &str) -> Result<(), CardError> {
    let mut m = Measure::default();
    yaml_rust2::parser::Parser::new_from_str(yaml)
        .load(&mut m, true)
        .map_err(|e| CardError(format!("front matter is not YAML: {e}")))?;
    if m.max_depth > MAX_DEPTH {
        return Err(CardError(format!(
            "front matter nests deeper than {MAX_DEPTH} levels"
        )));
    }
    if m.nodes > MAX_NODES {
        return Err(CardError(format!(
            "front matter expands to more than {MAX_NODES} nodes (YAML aliases)"
        )));
    }
    Ok(())
}

/// Reads a model card from the text of `README.md`. A README without front matter gives a
/// card with only the body's sections.
pub fn parse(readme: &str) -> Result<ModelCard, CardError> {
    let (front, body) = split(readme);
    let mut card = ModelCard::default();
    if let Some(yaml) = front {
        if yaml.len() > MAX_FRONT_MATTER {
            return Err(CardError(format!(
                "front matter is larger than {MAX_FRONT_MATTER} bytes"
            )));
        }
        check_yaml(yaml)?;
        let docs = yaml_rust2::YamlLoader::load_from_str(yaml)
            .map_err(|e| CardError(format!("front matter is not YAML: {e}")))?;
        let v = docs.first().map(yaml_to_json).unwrap_or(Value::Null);
        if !v.is_object() && !v.is_null() {
            return Err(CardError("front matter is not a YAML mapping".into()));
        }
        fill(&mut card, &v);
    }
    sections(&mut card, body);
    Ok(card)
}

fn fill(card: &mut ModelCard, v: &Value) {
    card.license = list(&v["license"]).into_iter().next();
    card.license_name = text(&v["license_name"]);
    card.license_link = text(&v["license_link"]);
    card.base_models = list(&v["base_model"]);
    card.base_model_relation = text(&v["base_model_relation"]);
    card.datasets = list(&v["datasets"]);
    card.metrics = list(&v["metrics"]);
    card.pipeline_tag = text(&v["pipeline_tag"]);
    card.library_name = text(&v["library_name"]);
    card.languages = list(&v["language"]);
    card.tags = list(&v["tags"]);
    card.co2_grams = match &v["co2_eq_emissions"] {
        Value::Number(n) => n.as_f64(),
        Value::Object(m) => m.get("emissions").and_then(Value::as_f64),
        _ => None,
    };
    for model in v["model-index"].as_array().into_iter().flatten() {
        for r in model["results"].as_array().into_iter().flatten() {
            let (Some(task), Some(dataset)) =
                (text(&r["task"]["type"]), text(&r["dataset"]["type"]))
            else {
                continue;
            };
            for m in r["metrics"].as_array().into_iter().flatten() {
                let (Some(metric), Some(value)) = (text(&m["type"]), text(&m["value"])) else {
                    continue;
                };
                card.results.push(EvalResult {
                    task: task.clone(),
                    dataset: dataset.clone(),
                    dataset_name: text(&r["dataset"]["name"]),
                    split: text(&r["dataset"]["split"]),
                    metric,
                    value,
                });
            }
        }
    }
}

/// What a section of the card's body is about.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Description,
    IntendedUse,
    Limitations,
    Other,
}

impl Section {
    /// From a heading (`level` is the number of `#`): the text before any heading and under
    /// the title (`# name`) describes the model.
    fn of(level: usize, heading: &str) -> Section {
        let h = heading.to_ascii_lowercase();
        if h.contains("intended") || h == "uses" || h.contains("direct use") {
            Section::IntendedUse
        } else if h.contains("limitation") || h.contains("bias") || h.contains("risk") {
            Section::Limitations
        } else if level <= 1 || h.contains("description") || h.contains("model details") {
            Section::Description
        } else {
            Section::Other
        }
    }

    fn keep(self, card: &mut ModelCard, text: &str) {
        let t = clip(text.trim());
        if t.is_empty() {
            return;
        }
        match self {
            Section::Description if card.description.is_none() => {
                card.description = first_paragraph(&t);
            }
            Section::IntendedUse => {
                card.intended_use.get_or_insert(t);
            }
            Section::Limitations => {
                card.limitations.get_or_insert(t);
            }
            _ => {}
        }
    }
}

/// Pulls the description, intended-use and limitations sections out of the card's body.
fn sections(card: &mut ModelCard, body: &str) {
    let mut section = Section::Description;
    let mut current = String::new();
    for line in body.lines() {
        if let Some(h) = line.trim_start().strip_prefix('#') {
            section.keep(card, &current);
            current.clear();
            let level = 1 + h.len() - h.trim_start_matches('#').len();
            section = Section::of(level, h.trim_start_matches('#').trim());
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    section.keep(card, &current);
}

fn first_paragraph(t: &str) -> Option<String> {
    t.split("\n\n")
        .map(str::trim)
        .find(|p| !p.is_empty() && !p.starts_with('<') && !p.starts_with('!'))
        .map(str::to_string)
}

fn clip(t: &str) -> String {
    const MAX: usize = 2000;
    if t.len() <= MAX {
        return t.to_string();
    }
    let mut end = MAX;
    while !t.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &t[..end])
}

/// Hugging Face licence ids and their SPDX ids, where one exists. Ids compared
/// case-insensitively; the others have no SPDX id and are written by name.
const LICENSES: &[(&str, &str)] = &[
    ("apache-2.0", "Apache-2.0"),
    ("mit", "MIT"),
    ("afl-3.0", "AFL-3.0"),
    ("artistic-2.0", "Artistic-2.0"),
    ("bsl-1.0", "BSL-1.0"),
    ("bsd-2-clause", "BSD-2-Clause"),
    ("bsd-3-clause", "BSD-3-Clause"),
    ("bsd-3-clause-clear", "BSD-3-Clause-Clear"),
    ("c-uda", "C-UDA-1.0"),
    ("cc0-1.0", "CC0-1.0"),
    ("cc-by-2.0", "CC-BY-2.0"),
    ("cc-by-2.5", "CC-BY-2.5"),
    ("cc-by-3.0", "CC-BY-3.0"),
    ("cc-by-4.0", "CC-BY-4.0"),
    ("cc-by-sa-3.0", "CC-BY-SA-3.0"),
    ("cc-by-sa-4.0", "CC-BY-SA-4.0"),
    ("cc-by-nc-2.0", "CC-BY-NC-2.0"),
    ("cc-by-nc-3.0", "CC-BY-NC-3.0"),
    ("cc-by-nc-4.0", "CC-BY-NC-4.0"),
    ("cc-by-nd-4.0", "CC-BY-ND-4.0"),
    ("cc-by-nc-nd-3.0", "CC-BY-NC-ND-3.0"),
    ("cc-by-nc-nd-4.0", "CC-BY-NC-ND-4.0"),
    ("cc-by-nc-sa-2.0", "CC-BY-NC-SA-2.0"),
    ("cc-by-nc-sa-3.0", "CC-BY-NC-SA-3.0"),
    ("cc-by-nc-sa-4.0", "CC-BY-NC-SA-4.0"),
    ("cdla-sharing-1.0", "CDLA-Sharing-1.0"),
    ("cdla-permissive-1.0", "CDLA-Permissive-1.0"),
    ("cdla-permissive-2.0", "CDLA-Permissive-2.0"),
    ("wtfpl", "WTFPL"),
    ("ecl-2.0", "ECL-2.0"),
    ("epl-1.0", "EPL-1.0"),
    ("epl-2.0", "EPL-2.0"),
    ("etalab-2.0", "etalab-2.0"),
    ("eupl-1.1", "EUPL-1.1"),
    ("eupl-1.2", "EUPL-1.2"),
    ("agpl-3.0", "AGPL-3.0-only"),
    ("gpl-2.0", "GPL-2.0-only"),
    ("gpl-3.0", "GPL-3.0-only"),
    ("lgpl-2.1", "LGPL-2.1-only"),
    ("lgpl-3.0", "LGPL-3.0-only"),
    ("lgpl-lr", "LGPLLR"),
    ("isc", "ISC"),
    ("lppl-1.3c", "LPPL-1.3c"),
    ("ms-pl", "MS-PL"),
    ("mpl-2.0", "MPL-2.0"),
    ("odc-by", "ODC-By-1.0"),
    ("odbl", "ODbL-1.0"),
    ("openmdw-1.0", "OpenMDW-1.0"),
    ("osl-3.0", "OSL-3.0"),
    ("postgresql", "PostgreSQL"),
    ("ofl-1.1", "OFL-1.1"),
    ("ncsa", "NCSA"),
    ("pddl", "PDDL-1.0"),
    ("unlicense", "Unlicense"),
    ("zlib", "Zlib"),
];

/// A declared licence: an SPDX id, or a name (with its link) when it has none.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum License {
    /// An SPDX licence id.
    Spdx(String),
    /// A licence without an SPDX id.
    Named {
        /// Its name (the Hugging Face id or `license_name`).
        name: String,
        /// Its link, if the card gives one.
        url: Option<String>,
    },
}

impl License {
    /// The licence's display text (SPDX id or name).
    pub fn text(&self) -> &str {
        match self {
            License::Spdx(s) => s,
            License::Named { name, .. } => name,
        }
    }
}

impl ModelCard {
    /// The declared licence, mapped to SPDX where possible.
    pub fn license(&self) -> Option<License> {
        let id = self.license.as_deref()?;
        if let Some((_, spdx)) = LICENSES.iter().find(|(hf, _)| hf.eq_ignore_ascii_case(id)) {
            return Some(License::Spdx((*spdx).to_string()));
        }
        let name = match (id, &self.license_name) {
            ("other", Some(n)) => n.clone(),
            _ => id.to_string(),
        };
        Some(License::Named {
            name,
            url: self.license_link.clone(),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_and_sections() {
        let readme = "---\nlicense: apache-2.0\nbase_model: google-bert/bert-base-uncased\ndatasets:\n- stanfordnlp/imdb\nmodel-index:\n- name: m\n  results:\n  - task: {type: text-classification}\n    dataset: {type: stanfordnlp/imdb, name: IMDB, split: test}\n    metrics:\n    - {type: accuracy, value: 0.93}\n---\n# tiny\n\nA tiny model.\n\n## Intended uses & limitations\n\nReviews only.\n\n## Bias, Risks, and Limitations\n\nEnglish only.\n";
        let c = parse(readme).unwrap();
        assert_eq!(c.license(), Some(License::Spdx("Apache-2.0".into())));
        assert_eq!(c.base_models, ["google-bert/bert-base-uncased"]);
        assert_eq!(c.results[0].value, "0.93");
        assert_eq!(c.intended_use.as_deref(), Some("Reviews only."));
        assert_eq!(c.limitations.as_deref(), Some("English only."));
        assert_eq!(c.description.as_deref(), Some("A tiny model."));
    }

    #[test]
    fn hostile_yaml_is_refused() {
        // Doubling anchors: few aliases, exponential expansion.
        let mut y = String::from("---\na0: &a0 [x, x]\n");
        for i in 1..40 {
            y.push_str(&format!("a{i}: &a{i} [*a{}, *a{}]\n", i - 1, i - 1));
        }
        y.push_str("---\n");
        assert!(parse(&y).unwrap_err().0.contains("expands"));
        // Deep block nesting.
        let mut y = String::from("---\na:\n");
        for i in 0..200 {
            y.push_str(&" ".repeat(2 * i + 2));
            y.push_str("- \n");
        }
        y.push_str("---\n");
        assert!(parse(&y).is_err());
        assert!(parse("---\n[unclosed\n---\n").is_err());
        assert_eq!(
            parse("no front matter").unwrap().description.as_deref(),
            Some("no front matter")
        );
    }
}
