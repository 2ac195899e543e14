//! The pattern table: one row per candidate shape, in priority order.
//!
//! All patterns are compiled into one multi-pattern regex and found in a single leftmost-first
//! pass; when two rows can match at the same position the earlier row wins, and when its check
//! rejects the candidate the later rows are tried at that position. Boundaries are ASCII
//! (`(?-u:\b)`, written `\B` below before expansion): a CJK character next to an identifier is
//! a boundary, a Latin letter or digit is not. This is what lets `身份证号110101199003077777`
//! be found where a Unicode `\b` finds nothing.

use crate::entity::EntityType as E;

/// How a candidate is checked after the regex pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    ResidentId18,
    ResidentId15,
    Uscc,
    BankCard,
    CreditCard,
    Mobile,
    Landline,
    Passport,
    Plate,
    Iban,
    Email,
    Phone,
    Ipv4,
    Ipv6,
    Mac,
    SsnSeparated,
    SsnCompact,
    Crypto,
    Url,
    PrivateKey,
    ApiKey,
    Jwt,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pattern {
    pub entity: E,
    /// Regex source; `\B` stands for an ASCII word boundary.
    pub regex: &'static str,
    /// Score of a candidate that passes the structural checks but has no checksum.
    pub score: f32,
    /// Score of a candidate confirmed by its validator (checksum, metadata or parser).
    pub confirmed: f32,
    pub check: Check,
}

const fn p(entity: E, regex: &'static str, score: f32, confirmed: f32, check: Check) -> Pattern {
    Pattern {
        entity,
        regex,
        score,
        confirmed,
        check,
    }
}

/// The table. Base scores follow Presidio's where it has the type (credit card 0.3, IBAN 0.5,
/// e-mail 0.5, phone 0.4, US SSN 0.5 / 0.05 unformatted); a passing checksum gives 1.0.
pub(crate) const PATTERNS: &[Pattern] = &[
    p(
        E::PrivateKey,
        r"-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----",
        0.8,
        1.0,
        Check::PrivateKey,
    ),
    p(
        E::ApiKey,
        r"\B(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|APKA)[0-9A-Z]{16}\B",
        0.8,
        1.0,
        Check::ApiKey,
    ),
    p(
        E::ApiKey,
        r"\Bgh[pousr]_[A-Za-z0-9]{36}\B",
        0.8,
        1.0,
        Check::ApiKey,
    ),
    p(
        E::ApiKey,
        r"\Bgithub_pat_[A-Za-z0-9_]{82}\B",
        0.8,
        1.0,
        Check::ApiKey,
    ),
    p(
        E::ApiKey,
        r"\Bxox[abposr]-[0-9A-Za-z]+(?:-[0-9A-Za-z]+)+",
        0.8,
        1.0,
        Check::ApiKey,
    ),
    p(
        E::ApiKey,
        r"\Bsk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{20,}",
        0.8,
        1.0,
        Check::ApiKey,
    ),
    p(
        E::ApiKey,
        r"\B(?:sk|rk)_live_[0-9A-Za-z]{24,}\B",
        0.8,
        1.0,
        Check::ApiKey,
    ),
    p(
        E::ApiKey,
        r"\BAIza[0-9A-Za-z_-]{35}",
        0.8,
        1.0,
        Check::ApiKey,
    ),
    p(
        E::ApiKey,
        r"\BeyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{8,}",
        0.5,
        1.0,
        Check::Jwt,
    ),
    p(
        E::Url,
        r"\B(?:[Hh][Tt][Tt][Pp][Ss]?|[Ff][Tt][Pp])://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+",
        0.6,
        0.6,
        Check::Url,
    ),
    p(
        E::Url,
        r"\Bwww\.[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?:[/?#][A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*)?",
        0.5,
        0.5,
        Check::Url,
    ),
    p(
        E::EmailAddress,
        r"\B[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}\B",
        0.5,
        1.0,
        Check::Email,
    ),
    p(
        E::IbanCode,
        r"\B[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\B",
        0.5,
        1.0,
        Check::Iban,
    ),
    p(
        E::CnResidentId,
        r"\B[1-9][0-9]{16}[0-9Xx]\B",
        0.3,
        1.0,
        Check::ResidentId18,
    ),
    p(
        E::CnUscc,
        r"\B[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}\B",
        0.3,
        1.0,
        Check::Uscc,
    ),
    p(
        E::CnResidentId,
        r"\B[1-9][0-9]{14}\B",
        0.3,
        0.3,
        Check::ResidentId15,
    ),
    p(
        E::CnBankCard,
        r"\B62[0-9]{14,17}\B",
        0.3,
        1.0,
        Check::BankCard,
    ),
    p(
        E::CnBankCard,
        r"\B62[0-9]{2}(?:[ -][0-9]{4}){3}(?:[ -]?[0-9]{1,3})?\B",
        0.3,
        1.0,
        Check::BankCard,
    ),
    p(
        E::CreditCard,
        r"\B[0-9]{12,19}\B",
        0.3,
        1.0,
        Check::CreditCard,
    ),
    p(
        E::CreditCard,
        r"\B[0-9]{4}(?:[ -][0-9]{4}){2}[ -][0-9]{1,7}\B",
        0.3,
        1.0,
        Check::CreditCard,
    ),
    p(
        E::CreditCard,
        r"\B[0-9]{4}[ -][0-9]{6}[ -][0-9]{4,5}\B",
        0.3,
        1.0,
        Check::CreditCard,
    ),
    p(
        E::CnMobile,
        r"(?:\+86[ -]?|\B(?:0086|86)[ -]?|\B)1[3-9][0-9](?:[0-9]{8}|[ -][0-9]{4}[ -][0-9]{4})\B",
        0.6,
        0.6,
        Check::Mobile,
    ),
    p(
        E::CnLandline,
        r"(?:\(0[0-9]{2,3}\)|\B0[0-9]{2,3})[ -]?[2-9][0-9]{6,7}\B",
        0.5,
        0.5,
        Check::Landline,
    ),
    p(
        E::UsSsn,
        r"\B[0-9]{3}([- .])[0-9]{2}[- .][0-9]{4}\B",
        0.5,
        0.5,
        Check::SsnSeparated,
    ),
    p(E::UsSsn, r"\B[0-9]{9}\B", 0.05, 0.05, Check::SsnCompact),
    p(
        E::MacAddress,
        r"\B[0-9A-Fa-f]{2}[:-][0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){4}\B",
        0.6,
        1.0,
        Check::Mac,
    ),
    p(
        E::MacAddress,
        r"\B[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\B",
        0.6,
        1.0,
        Check::Mac,
    ),
    p(
        E::IpAddress,
        r"\B(?:[0-9]{1,3}\.){3}[0-9]{1,3}\B",
        0.6,
        1.0,
        Check::Ipv4,
    ),
    p(
        E::IpAddress,
        r"(?:\B[0-9A-Fa-f]{1,4}|::)(?::{1,2}[0-9A-Fa-f]{1,4}){1,7}(?:::)?",
        0.6,
        1.0,
        Check::Ipv6,
    ),
    p(
        E::Crypto,
        r"\B(?:[13][1-9A-HJ-NP-Za-km-z]{25,34}|bc1[02-9ac-hj-np-z]{11,71}|BC1[02-9AC-HJ-NP-Z]{11,71})\B",
        0.5,
        1.0,
        Check::Crypto,
    ),
    p(
        E::CnPassport,
        r"\B(?:[EG][0-9]{8}|E[A-HJ-NP-Z][0-9]{7}|(?:PE|SE|DE|P|S|D)[0-9]{7})\B",
        0.5,
        0.5,
        Check::Passport,
    ),
    p(
        E::CnLicensePlate,
        r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z][·•]?(?:[DF][A-HJ-NP-Z0-9][0-9]{4}|[0-9]{5}[DF]|[A-HJ-NP-Z0-9]{4}[A-HJ-NP-Z0-9挂学警港澳])",
        0.5,
        0.5,
        Check::Plate,
    ),
    p(
        E::PhoneNumber,
        // International (+...) or grouped national numbers; a bare digit run is never a
        // phone candidate (it would be one for every number in the text).
        r"(?:\+[0-9][0-9 ().-]{5,20}|(?:\([0-9]{2,5}\)|\B[0-9]{2,5})[ .-]?[0-9]{2,5}[ .-][0-9 .-]{2,12})[0-9]\B",
        0.4,
        0.6,
        Check::Phone,
    ),
];

/// Context words per type (ASCII words match case-insensitively at word boundaries).
pub(crate) const CONTEXT: &[(E, &[&str])] = &[
    (
        E::CnResidentId,
        &[
            "身份证",
            "身份证号",
            "证件号",
            "公民身份",
            "居住证",
            "永久居留",
            "id card",
            "identity",
            "resident id",
        ],
    ),
    (
        E::CnUscc,
        &[
            "统一社会信用代码",
            "信用代码",
            "社会信用",
            "营业执照",
            "uscc",
            "credit code",
        ],
    ),
    (
        E::CnMobile,
        &[
            "手机",
            "电话",
            "联系方式",
            "致电",
            "mobile",
            "phone",
            "tel",
            "cell",
        ],
    ),
    (
        E::CnLandline,
        &[
            "电话", "座机", "总机", "分机", "办公", "固话", "传真", "tel", "phone", "fax",
        ],
    ),
    (E::CnPassport, &["护照", "passport"]),
    (E::CnLicensePlate, &["车牌", "号牌", "车辆", "plate"]),
    (
        E::CnBankCard,
        &[
            "卡号",
            "银行卡",
            "账号",
            "帐号",
            "储蓄卡",
            "借记卡",
            "信用卡",
            "开户",
            "card",
            "account",
        ],
    ),
    (
        E::CreditCard,
        &[
            "credit",
            "card",
            "visa",
            "mastercard",
            "amex",
            "cc",
            "信用卡",
            "卡号",
        ],
    ),
    (E::IbanCode, &["iban", "bank", "account", "transaction"]),
    (
        E::EmailAddress,
        &["email", "e-mail", "mail", "邮箱", "邮件"],
    ),
    (
        E::PhoneNumber,
        &[
            "phone",
            "number",
            "telephone",
            "cell",
            "mobile",
            "call",
            "tel",
            "fax",
            "电话",
        ],
    ),
    (
        E::IpAddress,
        &["ip", "ipv4", "ipv6", "address", "host", "地址"],
    ),
    (E::MacAddress, &["mac", "ethernet", "网卡", "物理地址"]),
    (E::UsSsn, &["social", "security", "ssn", "ssns", "ssid"]),
    (
        E::Crypto,
        &["wallet", "btc", "bitcoin", "crypto", "钱包", "比特币"],
    ),
    (E::Url, &["url", "website", "link", "网址", "链接"]),
    (E::PrivateKey, &["key", "private", "私钥", "密钥"]),
    (
        E::ApiKey,
        &["key", "token", "secret", "api", "密钥", "令牌"],
    ),
];

/// The table with `\B` expanded to an ASCII word boundary.
pub(crate) fn expanded(p: &Pattern) -> String {
    p.regex.replace(r"\B", r"(?-u:\b)")
}

pub(crate) use regex_automata::MatchKind;

/// The dense DFAs of the table's rows: anchored (searches start where a row can start), with
/// `kind` leftmost-first (the earlier row wins) or all (every row that matches). `build.rs`
/// determinises the whole table's with it at build time; the scanner does so at run time only
/// for a subset of entity types.
pub(crate) fn dfa_config(kind: MatchKind) -> regex_automata::dfa::dense::Config {
    regex_automata::dfa::dense::Config::new()
        .start_kind(regex_automata::dfa::StartKind::Anchored)
        .match_kind(kind)
}
