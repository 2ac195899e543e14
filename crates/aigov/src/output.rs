//! Human output: aligned tables and classification reports.

use aigov_policy::Classification;
use aigov_policy::expr::Truth;

/// Prints rows as an aligned table with a header.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(c);
            } else {
                out.push_str(c);
                out.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
}

/// Prints a classification for a person.
pub fn classification(c: &Classification) {
    let status = if c.complete {
        "complete".to_string()
    } else {
        format!(
            "PROVISIONAL: could be up to {} once {} open question(s) are answered",
            c.worst_case_tier,
            c.needs_info.len()
        )
    };
    println!("Tier:          {} ({status})", c.tier);
    println!("As of:         {}", c.as_of);
    let packs: Vec<String> = c
        .packs
        .iter()
        .map(|p| format!("{} {}", p.id, p.version))
        .collect();
    println!("Rule packs:    {}", packs.join(", "));
    if c.registration.mandatory {
        println!("Registration:  MANDATORY");
        for r in &c.registration.reasons {
            println!("  - {} [{}] ({})", r.title, r.source, r.jurisdiction);
        }
    } else if c.registration.possibly_mandatory {
        println!("Registration:  possibly mandatory (answer the open questions)");
    } else {
        println!("Registration:  not mandatory");
    }
    println!(
        "Testing depth: {}{}, retest {}",
        c.testing.level,
        if c.testing.independent {
            " (independent assessor)"
        } else {
            ""
        },
        c.testing.retest
    );
    for a in &c.testing.activities {
        println!("  - {a}");
    }
    println!();
    if c.fired.is_empty() {
        println!("No rule fired.");
    } else {
        println!("Why:");
        for f in &c.fired {
            println!("  [{}] {} — {} ({})", f.tier, f.rule, f.title, f.source);
            for e in &f.because {
                println!(
                    "      {} {} (value: {})",
                    if e.held { "✓" } else { "✗" },
                    e.condition,
                    e.value
                );
            }
        }
    }
    println!();
    println!("Obligations ({}):", c.obligations.len());
    for o in &c.obligations {
        let stages: Vec<&str> = o.obligation.stages.iter().map(|s| s.as_str()).collect();
        let deadline = o.obligation.deadline.as_ref().map_or(String::new(), |d| {
            format!(
                "; deadline: within {} {:?} after {}",
                d.within, d.unit, d.after
            )
            .replace("WorkingDays", "working days")
        });
        println!(
            "  {} — {} [{}; {}; from {}{}{}]",
            o.obligation.id,
            o.obligation.title,
            o.obligation.source,
            o.jurisdiction,
            o.effective_from,
            if stages.is_empty() {
                String::new()
            } else {
                format!("; stages: {}", stages.join(", "))
            },
            deadline
        );
    }
    if !c.upcoming_obligations.is_empty() {
        println!();
        println!(
            "Obligations that start later ({}):",
            c.upcoming_obligations.len()
        );
        for o in &c.upcoming_obligations {
            println!(
                "  {} — {} [{}; from {}]",
                o.obligation.id, o.obligation.title, o.obligation.source, o.effective_from
            );
        }
    }
    if !c.upcoming.is_empty() {
        println!();
        println!("Rules not yet in force:");
        for u in &c.upcoming {
            let how = if u.fires == Truth::True {
                "will apply"
            } else {
                "may apply"
            };
            println!(
                "  {} {} from {} — {} [{}] ({})",
                how, u.rule, u.applies_from, u.title, u.source, u.tier
            );
        }
    }
    if !c.needs_info.is_empty() {
        println!();
        println!("Needs information ({}):", c.needs_info.len());
        for q in &c.needs_info {
            let rules: Vec<String> = q
                .rules
                .iter()
                .map(|r| format!("{} ({})", r.rule, r.tier))
                .collect();
            println!("  {}: {}", q.fact, q.question);
            println!("      decides: {}", rules.join(", "));
        }
    }
}
