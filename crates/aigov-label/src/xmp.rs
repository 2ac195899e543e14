//! The XMP carrier of the `AIGC` label: property `TC260:AIGC` in the namespace
//! `http://www.tc260.org.cn/ns/AIGC/1.0/`, holding the label's JSON as a string.
//!
//! Reading finds the property under whatever prefix the packet binds to the namespace, as an
//! attribute or as an element. Writing updates the property in place when the packet has it,
//! adds it to the first `rdf:Description` otherwise, and keeps every other property untouched.

/// The TC260 namespace.
pub const NAMESPACE: &str = "http://www.tc260.org.cn/ns/AIGC/1.0/";

const PACKET_BEGIN: &str = "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>";
const PACKET_END: &str = "<?xpacket end=\"w\"?>";

/// A fresh XMP packet holding only the label.
pub fn packet(json: &str) -> String {
    format!(
        "{PACKET_BEGIN}<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF \
         xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description rdf:about=\"\" \
         xmlns:TC260=\"{NAMESPACE}\" TC260:AIGC=\"{}\"/></rdf:RDF></x:xmpmeta>{PACKET_END}",
        escape(json)
    )
}

/// Where the property sits in a packet.
enum Site {
    /// The value of an attribute: byte range of the value between the quotes.
    Attribute(std::ops::Range<usize>),
    /// The text of an element: byte range between the start and end tags.
    Element(std::ops::Range<usize>),
}

/// The prefixes bound to the TC260 namespace (plus `TC260` itself, which writers in the wild
/// sometimes use without declaring it).
fn prefixes(xmp: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = xmp;
    while let Some(i) = rest.find("xmlns:") {
        let after = &rest[i + 6..];
        if let Some(eq) = after.find('=') {
            let prefix = after[..eq].trim();
            let value = after[eq + 1..].trim_start();
            if let Some(q) = value.chars().next().filter(|c| *c == '"' || *c == '\'') {
                let body = &value[1..];
                if let Some(end) = body.find(q)
                    && body[..end] == *NAMESPACE
                    && !prefix.is_empty()
                {
                    out.push(prefix.to_string());
                }
            }
        }
        rest = after;
    }
    if !out.iter().any(|p| p == "TC260") {
        out.push("TC260".into());
    }
    out
}

fn find_site(xmp: &str) -> Option<Site> {
    for prefix in prefixes(xmp) {
        let name = format!("{prefix}:AIGC");
        let mut from = 0;
        while let Some(i) = xmp[from..].find(&name).map(|i| i + from) {
            from = i + name.len();
            let before = xmp[..i].chars().next_back();
            let after = &xmp[from..];
            if before == Some('<') {
                // Element form: `<TC260:AIGC>text</TC260:AIGC>` (attributes allowed).
                let Some(gt) = after.find('>') else { continue };
                if after[..gt].ends_with('/') {
                    return Some(Site::Element(from + gt..from + gt));
                }
                let start = from + gt + 1;
                let close = format!("</{name}");
                let end = xmp[start..].find(&close)?;
                return Some(Site::Element(start..start + end));
            }
            if before.is_some_and(char::is_whitespace) {
                let t = after.trim_start();
                let Some(t) = t.strip_prefix('=') else {
                    continue;
                };
                let t2 = t.trim_start();
                let Some(q) = t2.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                    continue;
                };
                let start = xmp.len() - t2.len() + 1;
                let end = xmp[start..].find(q)?;
                return Some(Site::Attribute(start..start + end));
            }
        }
    }
    None
}

/// The label text held by `TC260:AIGC`, unescaped; `None` when the packet has no such property.
pub fn find_aigc(xmp: &str) -> Option<String> {
    let range = match find_site(xmp)? {
        Site::Attribute(r) | Site::Element(r) => r,
    };
    let raw = xmp[range].trim();
    Some(
        match raw
            .strip_prefix("<![CDATA[")
            .and_then(|r| r.strip_suffix("]]>"))
        {
            Some(cdata) => cdata.to_string(),
            None => unescape(raw),
        },
    )
}

/// `xmp` with `TC260:AIGC` set to `json`: replaced where it is, or added. `None` starts a new
/// packet.
pub fn upsert(xmp: Option<&str>, json: &str) -> String {
    let Some(xmp) = xmp.filter(|x| x.contains("<rdf:RDF") || x.contains("rdf:RDF")) else {
        return packet(json);
    };
    let escaped = escape(json);
    match find_site(xmp) {
        Some(Site::Attribute(r)) | Some(Site::Element(r)) => {
            format!("{}{}{}", &xmp[..r.start], escaped, &xmp[r.end..])
        }
        None => {
            let attrs = format!(" xmlns:TC260=\"{NAMESPACE}\" TC260:AIGC=\"{escaped}\"");
            if let Some(i) = xmp.find("<rdf:Description") {
                let at = i + "<rdf:Description".len();
                format!("{}{}{}", &xmp[..at], attrs, &xmp[at..])
            } else if let Some(i) = xmp.find("</rdf:RDF>") {
                format!(
                    "{}<rdf:Description rdf:about=\"\"{attrs}/>{}",
                    &xmp[..i],
                    &xmp[i..]
                )
            } else {
                packet(json)
            }
        }
    }
}

/// XML attribute escaping.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 4);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// XML entity decoding (the five named entities and numeric references); an unknown entity is
/// kept as written.
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let Some(semi) = tail[..tail.len().min(12)].find(';') else {
            out.push('&');
            rest = &tail[1..];
            continue;
        };
        let entity = &tail[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e => e
                .strip_prefix("#x")
                .or_else(|| e.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| e.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &tail[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const JSON: &str = r#"{"AIGC":{"Label":"1","ContentProducer":"a&b<c>"}}"#;

    #[test]
    fn fresh_packet_reads_back() {
        let p = packet(JSON);
        assert_eq!(find_aigc(&p).as_deref(), Some(JSON));
        assert!(p.contains("&quot;Label&quot;"), "{p}");
    }

    #[test]
    fn other_prefixes_and_element_form_are_read() {
        let p = format!(
            r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="r"><rdf:Description xmlns:ai='{NAMESPACE}'><ai:AIGC>{}</ai:AIGC></rdf:Description></rdf:RDF></x:xmpmeta>"#,
            escape(JSON)
        );
        assert_eq!(find_aigc(&p).as_deref(), Some(JSON));
        let cdata = p.replace(&escape(JSON), &format!("<![CDATA[{JSON}]]>"));
        assert_eq!(find_aigc(&cdata).as_deref(), Some(JSON));
        assert_eq!(find_aigc("<x:xmpmeta/>"), None);
    }

    #[test]
    fn upsert_keeps_other_properties() {
        let existing = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="r"><rdf:Description rdf:about="" xmlns:dc="d" dc:format="image/png"/></rdf:RDF></x:xmpmeta>"#;
        let once = upsert(Some(existing), JSON);
        assert!(once.contains(r#"dc:format="image/png""#));
        assert_eq!(find_aigc(&once).as_deref(), Some(JSON));
        let twice = upsert(Some(&once), r#"{"AIGC":{"Label":"2"}}"#);
        assert_eq!(
            find_aigc(&twice).as_deref(),
            Some(r#"{"AIGC":{"Label":"2"}}"#)
        );
        assert_eq!(twice.matches("TC260:AIGC=").count(), 1);
        assert_eq!(unescape("&#x41;&#66;&bogus;&"), "AB&bogus;&");
    }
}
