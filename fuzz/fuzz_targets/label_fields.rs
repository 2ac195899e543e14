//! The label's JSON, the XMP property and the security-data value: any text.
#![no_main]
use aigov_label::sign::SecurityData;
use aigov_label::{Aigc, xmp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok((label, _)) = Aigc::parse(&text) {
        let _ = label.to_json();
        let _ = label.to_json_unchecked();
    }
    if let Some(found) = xmp::find_aigc(&text) {
        let _ = Aigc::parse(&found);
    }
    let updated = xmp::upsert(Some(&text), r#"{"AIGC":{"Label":"1"}}"#);
    if text.contains("rdf:RDF") {
        assert_eq!(xmp::find_aigc(&updated).as_deref(), Some(r#"{"AIGC":{"Label":"1"}}"#), "{updated}");
    }
    if let Ok(sd) = SecurityData::parse(&text) {
        let _ = sd.previous();
        let _ = sd.verify(aigov_label::sign::Role::Producer, &Aigc::default());
    }
});
