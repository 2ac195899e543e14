use super::*;

/// Scans `text` with the default scanner and compares `(entity, matched text)` pairs.
fn check(text: &str, expected: &[(&str, &str)]) {
    let s = Scanner::with_defaults();
    let got: Vec<(String, String)> = s
        .scan(text)
        .iter()
        .map(|f| {
            (
                s.entity_name(f.entity).to_string(),
                text[f.start..f.end].to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(got, want, "in {text:?}");
}

#[test]
fn chinese_identifiers_next_to_cjk_text() {
    check("身份证号110101199003077777，请核对", &[]); // wrong check digit
    check(
        "身份证号11010519491231002X，请核对",
        &[("CN_RESIDENT_ID", "11010519491231002X")],
    );
    check(
        "统一社会信用代码91110000600037341L。",
        &[("CN_USCC", "91110000600037341L")],
    );
    check("手机13812345678联系", &[("CN_MOBILE", "13812345678")]);
    check(
        "手机：+86 138-1234-5678。",
        &[("CN_MOBILE", "+86 138-1234-5678")],
    );
    check(
        "电话010-62345678或(0755)87654321",
        &[
            ("CN_LANDLINE", "010-62345678"),
            ("CN_LANDLINE", "(0755)87654321"),
        ],
    );
    check("护照号码E12345678", &[("CN_PASSPORT", "E12345678")]);
    check("车牌京A·12345停放", &[("CN_LICENSE_PLATE", "京A·12345")]);
    // Short numbers are not searched at all; they could not be identifiers anyway.
    check("2024年5月的Q3会议在10:30开始", &[]);
    check(
        "车牌京A12345，新能源粤BD12345",
        &[
            ("CN_LICENSE_PLATE", "京A12345"),
            ("CN_LICENSE_PLATE", "粤BD12345"),
        ],
    );
    check(
        "银行卡6222021234567890128",
        &[("CN_BANK_CARD", "6222021234567890128")],
    );
}

#[test]
fn full_width_is_normalised_and_mapped_back() {
    check(
        "手机：１３８１２３４５６７８",
        &[("CN_MOBILE", "１３８１２３４５６７８")],
    );
    check(
        "邮箱ｚｈａｎｇ＠１６３．ｃｏｍ谢谢",
        &[("EMAIL_ADDRESS", "ｚｈａｎｇ＠１６３．ｃｏｍ")],
    );
}

#[test]
fn context_words() {
    // A UnionPay number failing Luhn is kept only next to a card word.
    check("6222021234567890123", &[]);
    check(
        "卡号6222021234567890123",
        &[("CN_BANK_CARD", "6222021234567890123")],
    );
    // Legacy 15-digit ids and bare 9-digit SSNs need context.
    check("110105491231002", &[]);
    check(
        "身份证：110105491231002",
        &[("CN_RESIDENT_ID", "110105491231002")],
    );
    check("number 078051120 here", &[]);
    check("my ssn is 078051121", &[("US_SSN", "078051121")]);
    check("hotel 078051121", &[]); // "tel" inside a word is not context for SSN nor phone
    check("护照P1234567", &[("CN_PASSPORT", "P1234567")]);
    check("P1234567", &[]);
}

#[test]
fn international() {
    check(
        "card 4111 1111 1111 1111 exp",
        &[("CREDIT_CARD", "4111 1111 1111 1111")],
    );
    check("4111111111111112", &[]);
    check(
        "amex 378282246310005.",
        &[("CREDIT_CARD", "378282246310005")],
    );
    check(
        "IBAN DE89 3704 0044 0532 0130 00 ok",
        &[("IBAN_CODE", "DE89 3704 0044 0532 0130 00")],
    );
    check(
        "GB82WEST12345698765432",
        &[("IBAN_CODE", "GB82WEST12345698765432")],
    );
    check(
        "mail john.doe+x@example.co.uk!",
        &[("EMAIL_ADDRESS", "john.doe+x@example.co.uk")],
    );
    check(
        "call +1 415-555-2671 now",
        &[("PHONE_NUMBER", "+1 415-555-2671")],
    );
    check(
        "call (415) 555-2671 or 415-555-2672",
        &[
            ("PHONE_NUMBER", "(415) 555-2671"),
            ("PHONE_NUMBER", "415-555-2672"),
        ],
    );
    check(
        "host 192.168.1.20, not 1.2.3.4.5 nor 300.1.1.1",
        &[("IP_ADDRESS", "192.168.1.20")],
    );
    check(
        "v6 2001:db8::8a2e:370:7334 at 12:30:45",
        &[("IP_ADDRESS", "2001:db8::8a2e:370:7334")],
    );
    check(
        "mac 00:1A:2B:3C:4D:5E and 00:1A-2B:3C:4D:5E",
        &[("MAC_ADDRESS", "00:1A:2B:3C:4D:5E")],
    );
    check("ssn 536-90-4399", &[("US_SSN", "536-90-4399")]);
    check("ssn 666-05-1120", &[]);
    check(
        "btc 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        &[
            ("CRYPTO", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"),
            ("CRYPTO", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"),
        ],
    );
    check(
        "see https://example.com/a?b=1). Or www.example.org.",
        &[
            ("URL", "https://example.com/a?b=1"),
            ("URL", "www.example.org"),
        ],
    );
    check("访问https://例子.com", &[]);
}

#[test]
fn secrets() {
    check(
        "aws AKIAIOSFODNN7EXAMPLE",
        &[("API_KEY", "AKIAIOSFODNN7EXAMPLE")],
    );
    check(
        "token ghp_0123456789abcdefghijABCDEFGHIJ012345",
        &[("API_KEY", "ghp_0123456789abcdefghijABCDEFGHIJ012345")],
    );
    check(
        "OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz012345",
        &[("API_KEY", "sk-proj-abcdefghijklmnopqrstuvwxyz012345")],
    );
    check("task-abcdefghijklmnopqrstuvwxyz", &[]);
    let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    check(&format!("Authorization: Bearer {jwt}"), &[("API_KEY", jwt)]);
    let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----";
    check(&format!("key:\n{pem}\nend"), &[("PRIVATE_KEY", pem)]);
    check(
        "-----BEGIN PRIVATE KEY-----\nMIIB",
        &[("PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----")],
    );
}

#[test]
fn not_pii() {
    check("", &[]);
    check("The year 2024 had 365 days and version 1.2.3 shipped.", &[]);
    check("订单号20240101123456789号", &[]);
    check("ABC13812345678", &[]);
}

#[test]
fn thresholds_allow_and_deny() {
    let cfg = ScannerConfig {
        thresholds: [(EntityType::EmailAddress, 1.0)].into_iter().collect(),
        allow: vec!["13812345678".into()],
        deny: vec![DenyList {
            entity: "PROJECT".into(),
            words: vec!["Bluebird".into(), "青鸟".into()],
        }],
        ..ScannerConfig::default()
    };
    let s = Scanner::new(&cfg).unwrap();
    let text = "bluebird 青鸟计划 a@b.example 13812345678 13912345678 bluebirds";
    let got: Vec<_> = s
        .scan(text)
        .iter()
        .map(|f| (s.entity_name(f.entity).to_string(), &text[f.start..f.end]))
        .collect();
    assert_eq!(
        got,
        vec![
            ("PROJECT".to_string(), "bluebird"),
            ("PROJECT".to_string(), "青鸟"),
            ("CN_MOBILE".to_string(), "13912345678"),
        ]
    );
    assert!(
        Scanner::new(&ScannerConfig {
            threshold: 1.5,
            ..ScannerConfig::default()
        })
        .is_err()
    );
    let bad = DenyList {
        entity: "bad name".into(),
        words: vec!["x".into()],
    };
    assert!(
        Scanner::new(&ScannerConfig {
            deny: vec![bad],
            ..ScannerConfig::default()
        })
        .is_err()
    );
}

#[test]
fn scores_follow_presidio() {
    let s = Scanner::with_defaults();
    let f = s.scan("4111111111111111");
    assert_eq!((f[0].score, f[0].validated), (1.0, true));
    let f = s.scan("a@b.unknowntld");
    assert_eq!((f[0].score, f[0].validated), (0.5, false));
    let f = s.scan("email: a@b.unknowntld");
    assert!((f[0].score - 0.85).abs() < 1e-6);
}

#[test]
fn entity_subset() {
    let cfg = ScannerConfig {
        entities: Some(vec![EntityType::EmailAddress]),
        ..ScannerConfig::default()
    };
    let s = Scanner::new(&cfg).unwrap();
    let f = s.scan("a@b.com 13812345678");
    assert_eq!(f.len(), 1);
}

#[test]
fn the_built_dfas_are_what_the_table_compiles_to() {
    use patterns::MatchKind;
    let sources: Vec<String> = PATTERNS.iter().map(patterns::expanded).collect();
    let (all, every, single) = built::dfas().expect("the DFAs from build.rs load");
    let bytes = |d: &dense::DFA<Vec<u32>>| d.to_bytes_native_endian();
    assert_eq!(
        bytes(&all),
        bytes(&table_dfa(&sources, MatchKind::LeftmostFirst).unwrap())
    );
    assert_eq!(
        bytes(&every),
        bytes(&table_dfa(&sources, MatchKind::All).unwrap())
    );
    assert_eq!(single.len(), sources.len());
    for (d, s) in single.iter().zip(&sources) {
        let here = table_dfa(std::slice::from_ref(s), MatchKind::LeftmostFirst).unwrap();
        assert_eq!(bytes(d), bytes(&here), "{s}");
    }
}
