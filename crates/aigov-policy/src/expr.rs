//! The condition language of rule packs and its three-valued (Kleene) evaluation.
//!
//! ```text
//! expr    := or
//! or      := and ("or" and)*
//! and     := unary ("and" unary)*
//! unary   := "not" unary | "(" expr ")" | cond
//! cond    := path                       -- a boolean fact
//!          | path ("==" | "!=") value
//!          | path (">" | ">=" | "<" | "<=") number
//!          | path "in" list             -- a single-valued fact is one of the list
//!          | path "has" value           -- a set-valued fact contains the value
//!          | path ("has_any" | "has_all") list
//! value   := 'text' | "text" | number | true | false | $param | list
//! list    := "[" (value ("," value)*)? "]"
//! ```
//!
//! A fact that is absent is unknown: `functions has 'profiling'` is unknown when `functions` is
//! not given, `not unknown` is unknown, `false and unknown` is false, `true or unknown` is true.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::facts::{FactKind, fact_def};

/// Kleene truth value.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Truth {
    /// Definitely holds.
    True,
    /// Definitely does not hold.
    False,
    /// Depends on facts that were not given.
    Unknown,
}

impl Truth {
    fn from_bool(b: bool) -> Self {
        if b { Truth::True } else { Truth::False }
    }
    fn not(self) -> Self {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }
}

/// A literal operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// Text.
    Text(String),
    /// Number.
    Number(f64),
    /// Boolean.
    Bool(bool),
    /// List of literals.
    List(Vec<Literal>),
    /// A pack parameter, resolved at evaluation.
    Param(String),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `in`
    In,
    /// `has`
    Has,
    /// `has_any`
    HasAny,
    /// `has_all`
    HasAll,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::In => "in",
            Op::Has => "has",
            Op::HasAny => "has_any",
            Op::HasAll => "has_all",
        }
    }
}

/// A parsed condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// All must hold.
    And(Vec<Expr>),
    /// One must hold.
    Or(Vec<Expr>),
    /// Negation.
    Not(Box<Expr>),
    /// A boolean fact.
    Fact(String),
    /// A comparison of a fact with a literal.
    Cmp(String, Op, Literal),
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The language has no escapes: quote with the kind of quote the text lacks.
            Literal::Text(s) if s.contains('\'') => write!(f, "\"{s}\""),
            Literal::Text(s) => write!(f, "'{s}'"),
            Literal::Number(n) => write!(f, "{n}"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Param(p) => write!(f, "${p}"),
            Literal::List(items) => {
                f.write_str("[")?;
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{it}")?;
                }
                f.write_str("]")
            }
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::And(xs) | Expr::Or(xs) => {
                let sep = if matches!(self, Expr::And(_)) {
                    " and "
                } else {
                    " or "
                };
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(sep)?;
                    }
                    if matches!(x, Expr::And(_) | Expr::Or(_)) {
                        write!(f, "({x})")?;
                    } else {
                        write!(f, "{x}")?;
                    }
                }
                Ok(())
            }
            Expr::Not(x) => match **x {
                Expr::And(_) | Expr::Or(_) => write!(f, "not ({x})"),
                _ => write!(f, "not {x}"),
            },
            Expr::Fact(p) => f.write_str(p),
            Expr::Cmp(p, op, lit) => write!(f, "{p} {} {lit}", op.as_str()),
        }
    }
}

/// A syntax error in a condition, with the character offset where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Character offset into the condition text (0-based).
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.offset + 1, self.message)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    Param(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Op(Op),
}

fn lex(src: &str) -> Result<Vec<(usize, Tok)>, SyntaxError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |offset, message: &str| SyntaxError {
        offset,
        message: message.to_string(),
    };
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => out.push((start, Tok::LParen)),
            ')' => out.push((start, Tok::RParen)),
            '[' => out.push((start, Tok::LBracket)),
            ']' => out.push((start, Tok::RBracket)),
            ',' => out.push((start, Tok::Comma)),
            '\'' | '"' => {
                let quote = c;
                i += 1;
                let mut s = String::new();
                while i < chars.len() && chars[i] != quote {
                    s.push(chars[i]);
                    i += 1;
                }
                if i >= chars.len() {
                    return Err(err(start, "unterminated string"));
                }
                out.push((start, Tok::Str(s)));
            }
            '=' | '!' | '<' | '>' => {
                let next = chars.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    ('=', Some('=')) => (Op::Eq, 2),
                    ('!', Some('=')) => (Op::Ne, 2),
                    ('<', Some('=')) => (Op::Le, 2),
                    ('>', Some('=')) => (Op::Ge, 2),
                    ('<', _) => (Op::Lt, 1),
                    ('>', _) => (Op::Gt, 1),
                    _ => return Err(err(start, "expected '==' or '!='")),
                };
                out.push((start, Tok::Op(op)));
                i += len;
                continue;
            }
            '$' => {
                i += 1;
                let mut s = String::new();
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    s.push(chars[i]);
                    i += 1;
                }
                if s.is_empty() {
                    return Err(err(start, "expected a parameter name after '$'"));
                }
                out.push((start, Tok::Param(s)));
                continue;
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let mut s = String::new();
                s.push(c);
                i += 1;
                while i < chars.len()
                    && (chars[i].is_ascii_digit()
                        || matches!(chars[i], '.' | 'e' | 'E' | '_')
                        || (matches!(chars[i], '+' | '-') && matches!(chars[i - 1], 'e' | 'E')))
                {
                    if chars[i] != '_' {
                        s.push(chars[i]);
                    }
                    i += 1;
                }
                let n: f64 = s
                    .parse()
                    .ok()
                    .filter(|n: &f64| n.is_finite())
                    .ok_or_else(|| err(start, &format!("'{s}' is not a finite number")))?;
                out.push((start, Tok::Num(n)));
                continue;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut s = String::new();
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '.')
                {
                    s.push(chars[i]);
                    i += 1;
                }
                let tok = match s.as_str() {
                    "in" => Tok::Op(Op::In),
                    "has" => Tok::Op(Op::Has),
                    "has_any" => Tok::Op(Op::HasAny),
                    "has_all" => Tok::Op(Op::HasAll),
                    _ => Tok::Ident(s),
                };
                out.push((start, tok));
                continue;
            }
            other => return Err(err(start, &format!("unexpected character '{other}'"))),
        }
        i += 1;
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }
    fn offset(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(o, _)| *o)
    }
    fn err<T>(&self, message: impl Into<String>) -> Result<T, SyntaxError> {
        Err(SyntaxError {
            offset: self.offset(),
            message: message.into(),
        })
    }
    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s == w)
    }

    fn or(&mut self) -> Result<Expr, SyntaxError> {
        let mut xs = vec![self.and()?];
        while self.is_word("or") {
            self.pos += 1;
            xs.push(self.and()?);
        }
        Ok(if xs.len() == 1 {
            xs.remove(0)
        } else {
            Expr::Or(xs)
        })
    }

    fn and(&mut self) -> Result<Expr, SyntaxError> {
        let mut xs = vec![self.unary()?];
        while self.is_word("and") {
            self.pos += 1;
            xs.push(self.unary()?);
        }
        Ok(if xs.len() == 1 {
            xs.remove(0)
        } else {
            Expr::And(xs)
        })
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        if self.is_word("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        match self.peek().cloned() {
            Some(Tok::LParen) => {
                self.pos += 1;
                let e = self.or()?;
                if self.peek() != Some(&Tok::RParen) {
                    return self.err("expected ')'");
                }
                self.pos += 1;
                Ok(e)
            }
            Some(Tok::Ident(path)) => {
                if matches!(path.as_str(), "and" | "or" | "true" | "false") {
                    return self.err(format!("expected a fact name, found '{path}'"));
                }
                self.pos += 1;
                match self.peek().cloned() {
                    Some(Tok::Op(op)) => {
                        self.pos += 1;
                        let lit = self.literal()?;
                        Ok(Expr::Cmp(path, op, lit))
                    }
                    _ => Ok(Expr::Fact(path)),
                }
            }
            Some(_) => self.err("expected a fact name, 'not' or '('"),
            None => self.err("unexpected end of condition"),
        }
    }

    fn literal(&mut self) -> Result<Literal, SyntaxError> {
        let lit = match self.peek().cloned() {
            Some(Tok::Str(s)) => Literal::Text(s),
            Some(Tok::Num(n)) => Literal::Number(n),
            Some(Tok::Param(p)) => Literal::Param(p),
            Some(Tok::Ident(w)) if w == "true" => Literal::Bool(true),
            Some(Tok::Ident(w)) if w == "false" => Literal::Bool(false),
            Some(Tok::LBracket) => {
                self.pos += 1;
                let mut items = Vec::new();
                if self.peek() != Some(&Tok::RBracket) {
                    loop {
                        items.push(self.literal()?);
                        match self.peek() {
                            Some(Tok::Comma) => self.pos += 1,
                            Some(Tok::RBracket) => break,
                            _ => return self.err("expected ',' or ']'"),
                        }
                    }
                }
                Literal::List(items)
            }
            Some(Tok::Ident(w)) => {
                return self.err(format!("expected a value, found '{w}' (quote text values)"));
            }
            _ => return self.err("expected a value"),
        };
        self.pos += 1;
        Ok(lit)
    }
}

/// Parses a condition.
pub fn parse(src: &str) -> Result<Expr, SyntaxError> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        end: src.chars().count(),
    };
    let e = p.or()?;
    if p.pos != p.toks.len() {
        return p.err("unexpected text after the end of the condition (missing 'and'/'or'?)");
    }
    Ok(e)
}

/// A problem found when checking a condition against the fact schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeError {
    /// The fact path concerned.
    pub fact: String,
    /// What is wrong.
    pub message: String,
}

/// Checks a parsed condition against the fact schema and the pack's parameters.
pub fn check(expr: &Expr, params: &BTreeMap<String, Literal>) -> Vec<TypeError> {
    let mut errs = Vec::new();
    check_into(expr, params, &mut errs);
    errs
}

fn check_into(expr: &Expr, params: &BTreeMap<String, Literal>, errs: &mut Vec<TypeError>) {
    let mut push = |fact: &str, message: String| {
        errs.push(TypeError {
            fact: fact.to_string(),
            message,
        })
    };
    match expr {
        Expr::And(xs) | Expr::Or(xs) => {
            for x in xs {
                check_into(x, params, errs);
            }
        }
        Expr::Not(x) => check_into(x, params, errs),
        Expr::Fact(path) => match fact_def(path) {
            None => push(path, format!("unknown fact '{path}'")),
            Some(d) if d.kind != FactKind::Bool => push(
                path,
                format!("fact '{path}' is not a yes/no fact; compare it with a value"),
            ),
            Some(_) => {}
        },
        Expr::Cmp(path, op, lit) => {
            let Some(def) = fact_def(path) else {
                push(path, format!("unknown fact '{path}'"));
                return;
            };
            let lit = match resolve(lit, params) {
                Ok(l) => l,
                Err(p) => {
                    push(path, format!("unknown parameter '${p}'"));
                    return;
                }
            };
            let kind = def.kind;
            let is_set = matches!(kind, FactKind::EnumSet(_) | FactKind::TextSet);
            let ok_op = match op {
                Op::Has | Op::HasAny | Op::HasAll => is_set,
                Op::Gt | Op::Ge | Op::Lt | Op::Le => kind == FactKind::Number,
                Op::Eq | Op::Ne | Op::In => !is_set,
            };
            if !ok_op {
                push(
                    path,
                    format!(
                        "operator '{}' does not apply to fact '{path}' ({})",
                        op.as_str(),
                        kind_name(kind)
                    ),
                );
                return;
            }
            let list_op = matches!(op, Op::HasAny | Op::HasAll | Op::In);
            let items: Vec<&Literal> = match (lit.as_ref(), list_op) {
                (Literal::List(items), true) => items.iter().collect(),
                (_, true) => {
                    push(
                        path,
                        format!("operator '{}' needs a list [..]", op.as_str()),
                    );
                    return;
                }
                (Literal::List(_), false) => {
                    push(
                        path,
                        format!("operator '{}' needs a single value", op.as_str()),
                    );
                    return;
                }
                (l, false) => vec![l],
            };
            for item in items {
                let fits = match (kind, item) {
                    (FactKind::Bool, Literal::Bool(_)) => true,
                    (FactKind::Number, Literal::Number(_)) => true,
                    (FactKind::Text | FactKind::TextSet, Literal::Text(_)) => true,
                    (FactKind::Enum(vals) | FactKind::EnumSet(vals), Literal::Text(t)) => {
                        if !vals.contains(&t.as_str()) {
                            push(
                                path,
                                format!(
                                    "'{t}' is not a value of fact '{path}' (expected one of: {})",
                                    vals.join(", ")
                                ),
                            );
                        }
                        true
                    }
                    _ => false,
                };
                if !fits {
                    push(
                        path,
                        format!(
                            "value {item} does not fit fact '{path}' ({})",
                            kind_name(kind)
                        ),
                    );
                }
            }
        }
    }
}

fn kind_name(k: FactKind) -> &'static str {
    match k {
        FactKind::Bool => "yes/no",
        FactKind::Number => "number",
        FactKind::Text => "text",
        FactKind::Enum(_) => "one value of a closed list",
        FactKind::EnumSet(_) => "set of values of a closed list",
        FactKind::TextSet => "set of text values",
    }
}

/// Replaces parameter references with their values. Returns the name of a missing parameter.
/// Borrows whenever it can: evaluation runs this for every comparison of every rule.
fn resolve<'a>(
    lit: &'a Literal,
    params: &'a BTreeMap<String, Literal>,
) -> Result<Cow<'a, Literal>, String> {
    match lit {
        Literal::Param(p) => match params.get(p) {
            Some(Literal::Param(_)) | None => Err(p.clone()),
            Some(v) => Ok(Cow::Borrowed(v)),
        },
        Literal::List(items)
            if items
                .iter()
                .any(|i| matches!(i, Literal::Param(_) | Literal::List(_))) =>
        {
            Ok(Cow::Owned(Literal::List(
                items
                    .iter()
                    .map(|i| resolve(i, params).map(Cow::into_owned))
                    .collect::<Result<_, _>>()?,
            )))
        }
        other => Ok(Cow::Borrowed(other)),
    }
}

/// Facts prepared for evaluation: the JSON form of [`crate::SystemFacts`].
#[derive(Debug, Clone)]
pub struct FactView {
    root: Value,
}

impl FactView {
    /// Prepares facts for evaluation.
    pub fn new(facts: &crate::SystemFacts) -> Self {
        FactView {
            root: serde_json::to_value(facts).unwrap_or(Value::Null),
        }
    }

    /// The value of a fact, or `None` when it is unknown.
    pub fn get(&self, path: &str) -> Option<&Value> {
        let mut v = &self.root;
        for part in path.split('.') {
            v = v.get(part)?;
        }
        if v.is_null() { None } else { Some(v) }
    }
}

fn lit_eq(v: &Value, lit: &Literal) -> bool {
    match (v, lit) {
        (Value::String(s), Literal::Text(t)) => s.eq_ignore_ascii_case(t),
        (Value::Bool(a), Literal::Bool(b)) => a == b,
        (Value::Number(n), Literal::Number(m)) => n.as_f64() == Some(*m),
        _ => false,
    }
}

/// Evaluates a condition. Parameters must already be known to exist ([`check`]); a missing one
/// makes the comparison unknown.
pub fn eval(expr: &Expr, facts: &FactView, params: &BTreeMap<String, Literal>) -> Truth {
    match expr {
        Expr::And(xs) => {
            let mut acc = Truth::True;
            for x in xs {
                match eval(x, facts, params) {
                    Truth::False => return Truth::False,
                    Truth::Unknown => acc = Truth::Unknown,
                    Truth::True => {}
                }
            }
            acc
        }
        Expr::Or(xs) => {
            let mut acc = Truth::False;
            for x in xs {
                match eval(x, facts, params) {
                    Truth::True => return Truth::True,
                    Truth::Unknown => acc = Truth::Unknown,
                    Truth::False => {}
                }
            }
            acc
        }
        Expr::Not(x) => eval(x, facts, params).not(),
        Expr::Fact(path) => match facts.get(path) {
            Some(Value::Bool(b)) => Truth::from_bool(*b),
            _ => Truth::Unknown,
        },
        Expr::Cmp(path, op, lit) => {
            let Some(v) = facts.get(path) else {
                return Truth::Unknown;
            };
            let Ok(lit) = resolve(lit, params) else {
                return Truth::Unknown;
            };
            let items: &[Literal] = match lit.as_ref() {
                Literal::List(items) => items,
                other => std::slice::from_ref(other),
            };
            let set: &[Value] = match v {
                Value::Array(a) => a,
                other => std::slice::from_ref(other),
            };
            let num = |l: &Literal| match l {
                Literal::Number(n) => Some(*n),
                _ => None,
            };
            let b = match op {
                Op::Eq => items.iter().any(|l| lit_eq(v, l)),
                Op::Ne => !items.iter().any(|l| lit_eq(v, l)),
                Op::In => items.iter().any(|l| lit_eq(v, l)),
                Op::Has | Op::HasAny => items.iter().any(|l| set.iter().any(|s| lit_eq(s, l))),
                Op::HasAll => items.iter().all(|l| set.iter().any(|s| lit_eq(s, l))),
                Op::Gt | Op::Ge | Op::Lt | Op::Le => {
                    let (Some(a), Some(b)) = (v.as_f64(), items.first().and_then(num)) else {
                        return Truth::Unknown;
                    };
                    match op {
                        Op::Gt => a > b,
                        Op::Ge => a >= b,
                        Op::Lt => a < b,
                        _ => a <= b,
                    }
                }
            };
            Truth::from_bool(b)
        }
    }
}

/// One leaf condition that decided a result, with the fact value it saw.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Evidence {
    /// The fact path.
    pub fact: String,
    /// The condition as written.
    pub condition: String,
    /// The fact's value (null when unknown).
    pub value: Value,
    /// Whether the condition held.
    pub held: bool,
}

/// The leaf conditions that make `expr` evaluate to `target` (True or False).
pub fn explain(
    expr: &Expr,
    facts: &FactView,
    params: &BTreeMap<String, Literal>,
    target: Truth,
    out: &mut Vec<Evidence>,
) {
    match expr {
        Expr::And(xs) | Expr::Or(xs) => {
            // For an `and` that holds (or an `or` that fails) every child contributes; otherwise
            // the children that reached the decisive value do.
            let all = matches!(
                (expr, target),
                (Expr::And(_), Truth::True) | (Expr::Or(_), Truth::False)
            );
            for x in xs {
                let t = eval(x, facts, params);
                if all || t == target {
                    explain(x, facts, params, t, out);
                }
            }
        }
        Expr::Not(x) => explain(x, facts, params, target.not(), out),
        Expr::Fact(path) | Expr::Cmp(path, _, _) => {
            if target == Truth::Unknown {
                return;
            }
            // Show parameters with the value they had, e.g. `users > 1000000 ($user_threshold)`.
            let condition = match expr {
                Expr::Cmp(p, op, lit @ Literal::Param(name)) => match resolve(lit, params) {
                    Ok(v) => format!("{p} {} {v} (${name})", op.as_str()),
                    Err(_) => expr.to_string(),
                },
                _ => expr.to_string(),
            };
            out.push(Evidence {
                fact: path.clone(),
                condition,
                value: facts.get(path).cloned().unwrap_or(Value::Null),
                held: target == Truth::True,
            });
        }
    }
}

/// The unknown facts whose answers could change an unknown result.
pub fn unknowns(
    expr: &Expr,
    facts: &FactView,
    params: &BTreeMap<String, Literal>,
    out: &mut Vec<String>,
) {
    if eval(expr, facts, params) != Truth::Unknown {
        return;
    }
    match expr {
        Expr::And(xs) | Expr::Or(xs) => {
            for x in xs {
                unknowns(x, facts, params, out);
            }
        }
        Expr::Not(x) => unknowns(x, facts, params, out),
        Expr::Fact(path) | Expr::Cmp(path, _, _) => {
            if !out.contains(path) {
                out.push(path.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SystemFacts;

    fn truth(cond: &str, facts: &SystemFacts) -> Truth {
        let e = parse(cond).unwrap_or_else(|e| panic!("{cond}: {e}"));
        eval(&e, &FactView::new(facts), &BTreeMap::new())
    }

    #[test]
    fn kleene_logic() {
        let mut f = SystemFacts::default();
        assert_eq!(truth("public_facing", &f), Truth::Unknown);
        assert_eq!(truth("not public_facing", &f), Truth::Unknown);
        f.profiling = Some(false);
        assert_eq!(truth("profiling and public_facing", &f), Truth::False);
        assert_eq!(truth("profiling or public_facing", &f), Truth::Unknown);
        f.public_facing = Some(true);
        assert_eq!(truth("profiling or public_facing", &f), Truth::True);
        assert_eq!(
            truth("not (profiling or not public_facing)", &f),
            Truth::True
        );
    }

    #[test]
    fn comparisons() {
        let f = SystemFacts {
            training_compute_flop: Some(2e25),
            jurisdictions: Some(vec!["CN".into(), "EU".into()]),
            derogation: Some(crate::facts::Derogation::None),
            ..Default::default()
        };
        assert_eq!(truth("training_compute_flop > 1e25", &f), Truth::True);
        assert_eq!(truth("training_compute_flop >= 1_000e22", &f), Truth::True);
        assert_eq!(truth("training_compute_flop < 1e25", &f), Truth::False);
        assert_eq!(truth("jurisdictions has 'EU'", &f), Truth::True);
        assert_eq!(truth("jurisdictions has_any ['US', 'CN']", &f), Truth::True);
        assert_eq!(
            truth("jurisdictions has_all ['US', 'CN']", &f),
            Truth::False
        );
        assert_eq!(truth("derogation == 'none'", &f), Truth::True);
        assert_eq!(
            truth("derogation in ['detects_patterns']", &f),
            Truth::False
        );
        assert_eq!(truth("parameters > 5", &f), Truth::Unknown);
    }

    #[test]
    fn syntax_errors_name_the_place() {
        let e = parse("public_facing and").unwrap_err();
        assert_eq!(e.offset, 17);
        let e = parse("functions has profiling").unwrap_err();
        assert!(e.message.contains("quote"), "{e}");
        let e = parse("a = 'b'").unwrap_err();
        assert_eq!(e.offset, 2);
        assert!(parse("(a and b").unwrap_err().message.contains("')'"));
        assert!(parse("a b").is_err());
        // Found by fuzzing: an infinite literal printed as `inf`, which does not parse back.
        let e = parse("users > 1e999").unwrap_err();
        assert!(e.message.contains("not a finite number"), "{e}");
    }

    #[test]
    fn type_check() {
        let p = BTreeMap::new();
        let errs = check(&parse("functions has 'flying'").unwrap(), &p);
        assert!(
            errs[0].message.contains("'flying' is not a value"),
            "{errs:?}"
        );
        let errs = check(&parse("wings").unwrap(), &p);
        assert_eq!(errs[0].message, "unknown fact 'wings'");
        let errs = check(&parse("functions == 'profiling'").unwrap(), &p);
        assert!(errs[0].message.contains("does not apply"), "{errs:?}");
        let errs = check(&parse("users > $threshold").unwrap(), &p);
        assert!(errs[0].message.contains("unknown parameter"), "{errs:?}");
        assert!(
            check(
                &parse("users > 5 and functions has_any ['profiling']").unwrap(),
                &p
            )
            .is_empty()
        );
    }

    #[test]
    fn display_round_trips() {
        for src in [
            "a and (b or not c)",
            "not (x has 'y' and z >= 3)",
            "j has_any ['EU', 'CN'] or k in ['a']",
            // Found by fuzzing: single quotes inside a double-quoted text.
            "ji has \"'Eui'\"",
        ] {
            let e = parse(src).unwrap();
            assert_eq!(parse(&e.to_string()).unwrap(), e, "{src}");
        }
    }

    #[test]
    fn explanations_show_parameter_values() {
        let e = parse("users > $limit and not public_facing").unwrap();
        let f = SystemFacts {
            users: Some(5000),
            public_facing: Some(false),
            ..Default::default()
        };
        let mut params = BTreeMap::new();
        params.insert("limit".to_string(), Literal::Number(1000.0));
        let mut out = Vec::new();
        explain(&e, &FactView::new(&f), &params, Truth::True, &mut out);
        assert_eq!(out[0].condition, "users > 1000 ($limit)");
        assert!(out[0].held);
        assert_eq!(out[1].condition, "public_facing");
        assert!(!out[1].held, "{out:?}");
    }
}
