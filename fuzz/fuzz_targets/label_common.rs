//! Shared body of the `label_*` targets: any bytes through one container format.
//!
//! Reading never panics; inspecting the bytes in place (as for a memory-mapped file) gives the
//! same digest as reading them; and when a file can be read and labelled, the labelled copy
//! must read back with the label in its primary carrier and the same essence (the invariant the
//! content digest rests on).
use std::io::Cursor;

use aigov_label::format::{Format, Layout, Limits};

const JSON: &str = r#"{"AIGC":{"Label":"1","ContentProducer":"P","ProduceID":"id","ReservedCode1":"","ContentPropagator":"","PropagateID":"","ReservedCode2":""}}"#;

fn essence(bytes: &[u8], l: &Layout) -> Vec<u8> {
    l.essence
        .iter()
        .flat_map(|r| bytes[r.start as usize..r.end as usize].iter().copied())
        .collect()
}

pub fn run(format: &dyn Format, data: &[u8]) {
    let limits = Limits {
        max_metadata: 1 << 20,
        max_structures: 10_000,
        max_depth: 16,
    };
    let _ = format.detect(&data[..data.len().min(64)]);
    // The in-place route (memory-mapped files) agrees with the streamed one.
    let streamed = aigov_label::content::inspect(&mut Cursor::new(data), &limits).map(|i| i.digest);
    let in_place = aigov_label::content::inspect_bytes(data, &limits, None).map(|i| i.digest);
    assert_eq!(streamed.ok(), in_place.ok(), "mapped and streamed inspection differ");
    let Ok(before) = format.layout(&mut Cursor::new(data), &limits) else {
        return;
    };
    for r in &before.essence {
        assert!(r.start <= r.end && r.end <= data.len() as u64, "essence outside the file");
    }
    let mut out = Vec::new();
    if format.write(&mut Cursor::new(data), &mut out, JSON, &limits).is_err() {
        return;
    }
    let after = format
        .layout(&mut Cursor::new(&out), &limits)
        .expect("a file aigov wrote must read back");
    assert!(
        after.carriers.iter().any(|c| c.primary && c.text == JSON),
        "the label must read back: {:?}",
        after.carriers
    );
    assert_eq!(essence(data, &before), essence(&out, &after), "labelling changed the essence");
}
