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
    /// An empty element `<p:AIGC …/>`: byte range of its `/>`, and the element's name.
    Empty(std::ops::Range<usize>, String),
}

/// Most distinct prefixes bound to the namespace that are looked at (real packets bind it once).
const MAX_PREFIXES: usize = 8;
/// Longest prefix accepted in an `xmlns:` declaration.
const MAX_PREFIX_LEN: usize = 64;

/// The prefixes bound to the TC260 namespace (plus `TC260` itself, which writers in the wild
/// sometimes use without declaring it), without repeats. Linear in the packet's length.
fn prefixes(xmp: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut from = 0;
    while let Some(i) = xmp[from..].find("xmlns:").map(|i| i + from) {
        from = i + 6;
        if out.len() >= MAX_PREFIXES {
            break;
        }
        let after = &xmp[from..];
        let Some(eq) = after
            .bytes()
            .take(MAX_PREFIX_LEN + 1)
            .position(|b| b == b'=' || b == b'<' || b == b'>')
        else {
            continue;
        };
        if after.as_bytes()[eq] != b'=' {
            continue;
        }
        let prefix = after[..eq].trim();
        let value = after[eq + 1..].trim_start();
        let Some(q) = value.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        let body = &value[1..];
        if !prefix.is_empty()
            && body.starts_with(NAMESPACE)
            && body[NAMESPACE.len()..].starts_with(q)
            && !out.iter().any(|p| p == prefix)
        {
            out.push(prefix.to_string());
        }
    }
    if !out.iter().any(|p| p == "TC260") {
        out.push("TC260".into());
    }
    out
}

/// The property's site: the first well-formed `p:AIGC` attribute or element, for the prefixes in
/// the order [`prefixes`] gives. Unterminated forms are skipped. Linear in the packet's length
/// for each prefix: every scan to the end of the packet ends the search for that form.
fn find_site(xmp: &str) -> Option<Site> {
    for prefix in prefixes(xmp) {
        let name = format!("{prefix}:AIGC");
        let close = format!("</{name}");
        let mut from = 0;
        // Element form: looked at once (a missing `>` or end tag is missing for every later one).
        let mut elements = true;
        // Attribute form: a quote character that is never closed after one occurrence is never
        // closed after a later one either.
        let mut quotes = vec!['"', '\''];
        while let Some(i) = xmp[from..].find(&name).map(|i| i + from) {
            from = i + name.len();
            let before = xmp[..i].chars().next_back();
            let after = &xmp[from..];
            if before == Some('<') {
                if !elements {
                    continue;
                }
                // `<p:AIGC>`, `<p:AIGC …>` or `<p:AIGC/>`, not `<p:AIGCX>`.
                if !after.starts_with(|c: char| c == '>' || c == '/' || c.is_whitespace()) {
                    continue;
                }
                elements = false;
                let Some(gt) = after.find('>') else { continue };
                if after[..gt].ends_with('/') {
                    let gt = from + gt;
                    return Some(Site::Empty(gt - 1..gt + 1, name));
                }
                let start = from + gt + 1;
                let Some(end) = xmp[start..].find(&close) else {
                    continue;
                };
                return Some(Site::Element(start..start + end));
            }
            if before.is_some_and(char::is_whitespace) {
                let t = after.trim_start();
                let Some(t) = t.strip_prefix('=') else {
                    continue;
                };
                let t2 = t.trim_start();
                let Some(q) = t2.chars().next().filter(|c| quotes.contains(c)) else {
                    continue;
                };
                let start = xmp.len() - t2.len() + 1;
                let Some(end) = xmp[start..].find(q) else {
                    quotes.retain(|c| *c != q);
                    continue;
                };
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
        Site::Empty(..) => return Some(String::new()),
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
/// packet, and so does a packet too broken to take the property where it would be read back
/// (an attribute quote left open, say): the label must read back from what is written.
pub fn upsert(xmp: Option<&str>, json: &str) -> String {
    let Some(xmp) = xmp.filter(|x| x.contains("rdf:RDF")) else {
        return packet(json);
    };
    let escaped = escape(json);
    let updated = match find_site(xmp) {
        Some(Site::Attribute(r)) | Some(Site::Element(r)) => {
            format!("{}{}{}", &xmp[..r.start], escaped, &xmp[r.end..])
        }
        Some(Site::Empty(r, name)) => {
            format!("{}>{escaped}</{name}>{}", &xmp[..r.start], &xmp[r.end..])
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
                return packet(json);
            }
        }
    };
    if find_aigc(&updated).as_deref() == Some(json) {
        updated
    } else {
        packet(json)
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
        // Bytes, not a string slice: the 12-byte window can end inside a character.
        let Some(semi) = tail.bytes().take(12).position(|b| b == b';') else {
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

    #[test]
    fn upsert_fills_an_empty_element() {
        let p = format!(
            r#"<rdf:RDF><rdf:Description xmlns:ai="{NAMESPACE}"><ai:AIGC rdf:parseType="Literal"/></rdf:Description></rdf:RDF>"#
        );
        assert_eq!(find_aigc(&p).as_deref(), Some(""));
        let once = upsert(Some(&p), JSON);
        assert!(
            once.contains(r#"<ai:AIGC rdf:parseType="Literal">{&quot;"#),
            "{once}"
        );
        assert!(once.contains("</ai:AIGC></rdf:Description>"), "{once}");
        assert_eq!(find_aigc(&once).as_deref(), Some(JSON));
    }

    #[test]
    fn upsert_skips_unterminated_properties() {
        // An element with no end tag before the description: the attribute added after it is
        // the one read back.
        let p = "<rdf:RDF><TC260:AIGC>x<rdf:Description/></rdf:RDF>";
        assert_eq!(find_aigc(p), None);
        let once = upsert(Some(p), JSON);
        assert_eq!(find_aigc(&once).as_deref(), Some(JSON), "{once}");
        assert!(once.starts_with("<rdf:RDF><TC260:AIGC>x<rdf:Description xmlns:TC260="));
        // An attribute whose quote is never closed would swallow the added one: a fresh packet.
        let p = "<rdf:RDF> TC260:AIGC=\"x <rdf:Description/></rdf:RDF>";
        let once = upsert(Some(p), JSON);
        assert_eq!(find_aigc(&once).as_deref(), Some(JSON), "{once}");
        // `<TC260:AIGCX>` is another element.
        let p = "<rdf:RDF><TC260:AIGCX>x</TC260:AIGCX></rdf:RDF>";
        assert_eq!(find_aigc(p), None);
    }

    #[test]
    fn hostile_packets_are_read_in_linear_time() {
        // Each of these made the search quadratic (a scan to the end for every occurrence);
        // 4 MiB of them would take hours.
        let n = 4 << 20;
        for unit in [
            "xmlns:",
            "<TC260:AIGC",
            " TC260:AIGC='",
            " TC260:AIGC=\"",
            "xmlns:a='http://www.tc260.org.cn/ns/AIGC/1.0/' ",
        ] {
            let p = unit.repeat(n / unit.len());
            let t = std::time::Instant::now();
            let _ = find_aigc(&p);
            let _ = upsert(Some(&format!("<rdf:RDF>{p}")), JSON);
            assert!(t.elapsed().as_secs() < 10, "{unit}: {:?}", t.elapsed());
        }
    }

    #[test]
    fn unescape_window_inside_a_character() {
        // Fuzz (label_png): the 12-byte look-ahead for `;` ended inside U+FFFD and panicked.
        assert_eq!(unescape("&abcdefghij\u{fffd};"), "&abcdefghij\u{fffd};");
        assert_eq!(unescape("&quot;Conte\u{fffd}t&quot;"), "\"Conte\u{fffd}t\"");
    }
}
