//! `aigov pii scan|redact|restore|keygen`: the personal-information scanner over files.
//!
//! Exit codes of `scan` and `redact`: 0 nothing at or above `--fail-on` (or no `--fail-on`);
//! 1 findings at or above `--fail-on`; 2 invalid usage, or input that could not be scanned
//! completely (unreadable files, malformed records, truncated compressed data) — the report
//! lists each one. Binary files are skipped with a note and do not change the exit code.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use aigov_pii::formats::json::Selector;
use aigov_pii::io::{Event, Format, Input, Options, Run, list_inputs};
use aigov_pii::redact::{Keys, Operator, Redactor, restore};
use aigov_pii::report::{FindingRecord, Summary, sarif};
use aigov_pii::{DenyList, EntityType, Scanner, ScannerConfig};
use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use crate::Exit;

/// `aigov pii …`
#[derive(Subcommand)]
pub enum PiiCommand {
    /// Scan files, folders (recursively) or stdin (`-`) for personal and sensitive data.
    Scan(ScanArgs),
    /// Write a redacted copy in the same format (never in place).
    Redact(RedactArgs),
    /// Put back the values that `redact --operator encrypt` replaced.
    Restore(RestoreArgs),
    /// Create a 32-byte key file for the hmac and encrypt operators (mode 0600).
    Keygen {
        /// Key file to create (refuses to overwrite).
        file: PathBuf,
    },
}

/// What to detect and how to read inputs.
#[derive(Args, Clone)]
pub struct ScanOpts {
    /// Files or folders; `-` reads stdin.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Input format: text, jsonl, csv, tsv, parquet (default: from the file name).
    #[arg(long)]
    format: Option<String>,
    /// JSON lines: fields to scan, as JSON paths (`$.text`, `messages[*].content`); default all strings.
    #[arg(long = "field")]
    fields: Vec<String>,
    /// CSV/TSV/Parquet: columns to scan, by name or 1-based number; default all text columns.
    #[arg(long = "column")]
    columns: Vec<String>,
    /// CSV/TSV files have no header row.
    #[arg(long)]
    no_header: bool,
    /// Entity types to detect, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    entities: Vec<String>,
    /// Minimum score reported.
    #[arg(long, default_value_t = 0.4)]
    threshold: f32,
    /// Per-type minimum score: `TYPE=SCORE` (repeatable).
    #[arg(long = "entity-threshold")]
    entity_thresholds: Vec<String>,
    /// Values never reported (repeatable).
    #[arg(long = "allow")]
    allow: Vec<String>,
    /// File of values never reported, one per line.
    #[arg(long)]
    allow_file: Option<PathBuf>,
    /// Words always reported: `ENTITY=word1,word2` (repeatable).
    #[arg(long = "deny")]
    deny: Vec<String>,
    /// Words always reported, from a file (one per line): `ENTITY=FILE`.
    #[arg(long = "deny-file")]
    deny_files: Vec<String>,
    /// Do not use context words to raise scores.
    #[arg(long)]
    no_context: bool,
    /// Scanning threads (default: all cores); reading and reporting run on two more.
    #[arg(long)]
    threads: Option<usize>,
    /// Longest record accepted, in bytes (longer JSON/CSV records are reported and skipped).
    #[arg(long, default_value_t = 64 << 20)]
    max_record: usize,
    /// Write findings as JSON lines to this file (`-`: stdout).
    #[arg(long)]
    findings: Option<PathBuf>,
    /// Write the JSON summary to this file (the evidence file for the registry).
    #[arg(long)]
    summary: Option<PathBuf>,
    /// Write findings as SARIF 2.1.0 to this file.
    #[arg(long)]
    sarif: Option<PathBuf>,
    /// Include matched values in the findings (reports should not spread the data they find).
    #[arg(long)]
    show_values: bool,
    /// Exit 1 when a finding scores at least this much.
    #[arg(long)]
    fail_on: Option<f32>,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// `aigov pii scan`
#[derive(Args)]
pub struct ScanArgs {
    #[command(flatten)]
    opts: ScanOpts,
}

/// `aigov pii redact`
#[derive(Args)]
pub struct RedactArgs {
    #[command(flatten)]
    opts: ScanOpts,
    /// Output file (one input) or folder (mirrors the inputs' relative paths); stdin goes to
    /// stdout when omitted.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Operator for every type: replace, mask, mask:N, redact, hmac, encrypt.
    #[arg(long, default_value = "replace")]
    operator: String,
    /// Operator for one type: `TYPE=OPERATOR` (repeatable).
    #[arg(long = "operator-for")]
    operator_for: Vec<String>,
    /// Key file for hmac and encrypt (see `aigov pii keygen`).
    #[arg(long)]
    key_file: Option<PathBuf>,
}

/// `aigov pii restore`
#[derive(Args)]
pub struct RestoreArgs {
    /// Redacted file (`-`: stdin).
    input: PathBuf,
    /// Where to write the restored copy (default: stdout).
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// The key file used for `redact`.
    #[arg(long)]
    key_file: PathBuf,
    /// Input format (default: from the file name); Parquet is restored column by column.
    #[arg(long)]
    format: Option<String>,
}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    Exit(2, msg.into()).into()
}

/// Runs a `pii` command.
pub fn run(cmd: PiiCommand) -> Result<()> {
    match cmd {
        PiiCommand::Scan(a) => scan(&a.opts, None),
        PiiCommand::Redact(a) => {
            let keys = a.key_file.as_deref().map(read_key).transpose()?;
            let default: Operator = a
                .operator
                .parse()
                .map_err(|e| usage(format!("--operator: {e}")))?;
            let mut per = HashMap::new();
            for s in &a.operator_for {
                let (t, op) = s.split_once('=').ok_or_else(|| {
                    usage(format!("--operator-for {s:?}: expected TYPE=OPERATOR"))
                })?;
                let op: Operator = op
                    .parse()
                    .map_err(|e| usage(format!("--operator-for {s:?}: {e}")))?;
                per.insert(t.to_ascii_uppercase(), op);
            }
            let redactor = Redactor::new(default, per, keys).map_err(|e| usage(e.to_string()))?;
            scan(&a.opts, Some((&redactor, a.output.as_deref())))
        }
        PiiCommand::Restore(a) => restore_cmd(&a),
        PiiCommand::Keygen { file } => keygen(&file),
    }
}

fn read_key(path: &Path) -> Result<Keys> {
    let text = std::fs::read(path)
        .with_context(|| format!("failed to read key file {}", path.display()))?;
    let trimmed = String::from_utf8_lossy(&text).trim().to_string();
    let bytes = if trimmed.len() == 64 && trimmed.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(&trimmed).map_err(|e| usage(format!("{}: {e}", path.display())))?
    } else {
        text
    };
    Keys::from_master(&bytes).map_err(|e| usage(format!("{}: {e}", path.display())))
}

fn keygen(file: &Path) -> Result<()> {
    use rand::RngCore;
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(file)
        .with_context(|| format!("failed to create {}", file.display()))?;
    writeln!(f, "{}", hex::encode(key))?;
    eprintln!(
        "key written to {} (keep it secret: it reverses `encrypt` and links `hmac` pseudonyms)",
        file.display()
    );
    Ok(())
}

fn scanner_config(o: &ScanOpts) -> Result<ScannerConfig> {
    let mut cfg = ScannerConfig {
        threshold: o.threshold,
        context: !o.no_context,
        ..ScannerConfig::default()
    };
    if !o.entities.is_empty() {
        let mut v = Vec::new();
        for e in &o.entities {
            v.push(
                EntityType::from_name(e.trim())
                    .ok_or_else(|| usage(format!("--entities: unknown type {e:?}")))?,
            );
        }
        cfg.entities = Some(v);
    }
    for s in &o.entity_thresholds {
        let (t, v) = s
            .split_once('=')
            .ok_or_else(|| usage(format!("--entity-threshold {s:?}: expected TYPE=SCORE")))?;
        let t = EntityType::from_name(t)
            .ok_or_else(|| usage(format!("--entity-threshold: unknown type {t:?}")))?;
        let v: f32 = v
            .parse()
            .map_err(|_| usage(format!("--entity-threshold {s:?}: not a number")))?;
        cfg.thresholds.insert(t, v);
    }
    cfg.allow = o.allow.clone();
    if let Some(f) = &o.allow_file {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("failed to read {}", f.display()))?;
        cfg.allow.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from),
        );
    }
    for d in &o.deny {
        let (e, words) = d
            .split_once('=')
            .ok_or_else(|| usage(format!("--deny {d:?}: expected ENTITY=word,word")))?;
        cfg.deny.push(DenyList {
            entity: e.to_string(),
            words: words.split(',').map(String::from).collect(),
        });
    }
    for d in &o.deny_files {
        let (e, file) = d
            .split_once('=')
            .ok_or_else(|| usage(format!("--deny-file {d:?}: expected ENTITY=FILE")))?;
        let text =
            std::fs::read_to_string(file).with_context(|| format!("failed to read {file}"))?;
        cfg.deny.push(DenyList {
            entity: e.to_string(),
            words: text.lines().map(String::from).collect(),
        });
    }
    Ok(cfg)
}

fn options(o: &ScanOpts) -> Result<Options> {
    let format = o
        .format
        .as_deref()
        .map(str::parse::<Format>)
        .transpose()
        .map_err(usage)?;
    Ok(Options {
        format,
        fields: Selector::parse(&o.fields).map_err(usage)?,
        columns: o.columns.clone(),
        header: !o.no_header,
        max_record: o.max_record.max(1),
        show_values: o.show_values,
        ..Options::default()
    })
}

/// Maps inputs to output paths: one file → the output file; otherwise the output is a
/// folder mirroring paths relative to each argument.
fn plan_outputs(args: &[PathBuf], output: Option<&Path>) -> Result<Vec<Input>> {
    let mut inputs = Vec::new();
    for a in args {
        let mut listed = list_inputs(std::slice::from_ref(a)).map_err(|e| usage(e.to_string()))?;
        let is_dir = a.is_dir();
        for i in &mut listed {
            i.output = match (output, &i.path) {
                (None, None) => None,
                (None, Some(p)) => {
                    return Err(usage(format!(
                        "{}: give --output (redaction never writes in place)",
                        p.display()
                    )));
                }
                (Some(o), Some(p)) if is_dir || args.len() > 1 || o.is_dir() => {
                    let rel = if is_dir {
                        p.strip_prefix(a).unwrap_or(p).to_path_buf()
                    } else {
                        PathBuf::from(p.file_name().unwrap_or_default())
                    };
                    Some(o.join(rel))
                }
                (Some(o), _) => Some(o.to_path_buf()),
            };
            if let (Some(out), Some(p)) = (&i.output, &i.path) {
                let same = match (std::fs::canonicalize(out), std::fs::canonicalize(p)) {
                    (Ok(a), Ok(b)) => a == b,
                    _ => false,
                };
                if same {
                    return Err(usage(format!(
                        "{}: the output would overwrite the input",
                        p.display()
                    )));
                }
            }
        }
        inputs.extend(listed);
    }
    Ok(inputs)
}

struct Progress {
    bar: Option<indicatif::ProgressBar>,
    records: u64,
    started: Instant,
}

impl Progress {
    fn new(enabled: bool) -> Progress {
        let bar = (enabled && std::io::IsTerminal::is_terminal(&std::io::stderr())).then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {elapsed} {bytes} scanned ({bytes_per_sec}) {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        Progress {
            bar,
            records: 0,
            started: Instant::now(),
        }
    }

    fn advance(&mut self, bytes: u64, records: u64) {
        self.records += records;
        if let Some(b) = &self.bar {
            b.inc(bytes);
            let secs = self.started.elapsed().as_secs_f64().max(1e-3);
            b.set_message(format!(
                "{} records ({:.0}/s)",
                self.records,
                self.records as f64 / secs
            ));
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

fn create(path: &Path) -> Result<Box<dyn Write>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(std::io::BufWriter::new(std::io::stdout())));
    }
    let f = std::fs::File::create(path)
        .with_context(|| format!("failed to create {}", path.display()))?;
    Ok(Box::new(std::io::BufWriter::new(f)))
}

fn scan(o: &ScanOpts, redact: Option<(&Redactor, Option<&Path>)>) -> Result<()> {
    let scanner = Scanner::new(&scanner_config(o)?).map_err(|e| usage(e.to_string()))?;
    let options = options(o)?;
    let inputs = match redact {
        Some((_, out)) => plan_outputs(&o.paths, out)?,
        None => list_inputs(&o.paths).map_err(|e| usage(e.to_string()))?,
    };
    if let Some(f) = o.fail_on
        && !(0.0..=1.0).contains(&f)
    {
        return Err(usage("--fail-on must be between 0 and 1"));
    }
    let threads = o
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("failed to start the thread pool")?;
    let run = Run {
        scanner: &scanner,
        options: &options,
        redactor: redact.map(|(r, _)| r),
        pool: &pool,
    };

    let mut findings_out = o.findings.as_deref().map(create).transpose()?;
    let findings_on_stdout = o.findings.as_deref().is_some_and(|p| p.as_os_str() == "-");
    let redacting_to_stdout = redact.is_some() && inputs.iter().any(|i| i.output.is_none());
    let mut sarif_findings: Vec<FindingRecord> = Vec::new();
    let mut summary = Summary::new(&format!("aigov {}", env!("CARGO_PKG_VERSION")), o.threshold);
    let mut progress = Progress::new(!o.quiet);
    let mut worst: f32 = -1.0;
    let mut write_err: Option<std::io::Error> = None;
    let mut line: Vec<u8> = Vec::with_capacity(256);
    let result = run.run(&inputs, &mut |ev| match ev {
        Event::Finding(f) => {
            worst = worst.max(f.score);
            summary.add_finding(&f);
            if let Some(w) = findings_out.as_mut() {
                // Into a reused buffer, then one write: not a dozen small dynamic writes.
                line.clear();
                f.write_jsonl(&mut line);
                if let Err(e) = w.write_all(&line) {
                    write_err.get_or_insert(e);
                }
            }
            if o.sarif.is_some() {
                sarif_findings.push(f.to_record());
            }
        }
        Event::Error(e) => summary.add_error(e),
        Event::Note(n) => summary.add_note(n),
        Event::File {
            name,
            bytes,
            records,
            skipped,
        } => summary.add_file(&name, bytes, records, skipped),
        Event::Progress(b, r) => progress.advance(b, r),
    });
    progress.finish();
    if let Some(mut w) = findings_out {
        w.flush().context("failed to write findings")?;
    }
    if let Some(e) = write_err {
        return Err(anyhow::Error::new(e).context("failed to write findings"));
    }
    result.map_err(|e| usage(e.to_string()))?;
    if let Some(p) = &o.summary {
        let mut w = create(p)?;
        serde_json::to_writer_pretty(&mut w, &summary)?;
        writeln!(w)?;
        w.flush()?;
    }
    if let Some(p) = &o.sarif {
        let mut w = create(p)?;
        serde_json::to_writer_pretty(&mut w, &sarif(&sarif_findings, env!("CARGO_PKG_VERSION")))?;
        writeln!(w)?;
        w.flush()?;
    }
    // The summary goes to stdout unless stdout already carries findings or redacted data.
    let busy = findings_on_stdout || redacting_to_stdout;
    if o.json {
        let text = serde_json::to_string_pretty(&summary)?;
        if busy {
            eprintln!("{text}")
        } else {
            println!("{text}")
        }
    } else if busy {
        eprint!("{}", summary.table());
    } else {
        print!("{}", summary.table());
    }
    if summary.errors > 0 {
        return Err(Exit(
            2,
            format!(
                "{} input error(s): not everything was scanned (see the report)",
                summary.errors
            ),
        )
        .into());
    }
    if let Some(f) = o.fail_on
        && worst >= f
    {
        return Err(Exit(1, format!("findings with score >= {f}")).into());
    }
    Ok(())
}

fn restore_cmd(a: &RestoreArgs) -> Result<()> {
    let keys = read_key(&a.key_file)?;
    let input = Input {
        path: (a.input.as_os_str() != "-").then(|| a.input.clone()),
        name: a.input.display().to_string(),
        output: a.output.clone(),
    };
    if let (Some(out), Some(p)) = (&input.output, &input.path)
        && let (Ok(x), Ok(y)) = (std::fs::canonicalize(out), std::fs::canonicalize(p))
        && x == y
    {
        return Err(usage("the output would overwrite the input"));
    }
    let format = match &a.format {
        Some(f) => f.parse::<Format>().map_err(usage)?,
        None => aigov_pii::io::source::format_from_name(&input.name),
    };
    if format == Format::Parquet {
        let n = aigov_pii::io::parquet::restore(&input, &keys).map_err(|e| usage(e.to_string()))?;
        eprintln!("{n} value(s) restored");
        return Ok(());
    }
    let opened = aigov_pii::io::source::open(&input)
        .with_context(|| format!("failed to open {}", input.name))?;
    let mut out = aigov_pii::io::source::Output::create(&input, opened.compression)
        .context("failed to create the output")?;
    let mut reader = opened.reader;
    let mut line = Vec::new();
    let mut total = 0;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .with_context(|| format!("failed to read {}", input.name))?;
        if n == 0 {
            break;
        }
        match std::str::from_utf8(&line) {
            Ok(text) if text.contains("<ENC:") => {
                let (back, k) = restore(text, &keys);
                total += k;
                out.write_all(back.as_bytes())?;
            }
            _ => out.write_all(&line)?,
        }
    }
    out.finish().context("failed to write the output")?;
    eprintln!("{total} value(s) restored");
    Ok(())
}
