//! The entity types the scanner reports, named exactly as in every output.

use std::fmt;

macro_rules! entities {
    ($($variant:ident => $name:literal, $doc:literal;)*) => {
        /// A built-in entity type.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum EntityType {
            $(#[doc = $doc] $variant,)*
        }

        impl EntityType {
            /// Every built-in type, in report order.
            pub const ALL: &'static [EntityType] = &[$(EntityType::$variant,)*];

            /// The name used in every output (`CN_RESIDENT_ID`, `CREDIT_CARD`, …).
            pub const fn name(self) -> &'static str {
                match self {
                    $(EntityType::$variant => $name,)*
                }
            }

            /// Parses a name as written in outputs (ASCII case-insensitive).
            pub fn from_name(name: &str) -> Option<EntityType> {
                Self::ALL.iter().copied().find(|e| e.name().eq_ignore_ascii_case(name))
            }

            /// One-line description, for help texts and SARIF rules.
            pub const fn description(self) -> &'static str {
                match self {
                    $(EntityType::$variant => $doc,)*
                }
            }
        }
    };
}

entities! {
    CnResidentId => "CN_RESIDENT_ID", "Chinese resident identity number (18-digit MOD 11-2 or legacy 15-digit), HK/Macao/Taiwan residence permit or foreigner permanent residence card";
    CnUscc => "CN_USCC", "Chinese unified social credit code (GB 32100, mod-31 check)";
    CnMobile => "CN_MOBILE", "Chinese mobile number (11 digits, optional +86/0086/86 prefix)";
    CnLandline => "CN_LANDLINE", "Chinese landline number (0 + area code + 7-8 digits)";
    CnPassport => "CN_PASSPORT", "Chinese passport number";
    CnLicensePlate => "CN_LICENSE_PLATE", "Chinese vehicle licence plate (including new-energy plates)";
    CnBankCard => "CN_BANK_CARD", "Chinese bank card (UnionPay 62..., 16-19 digits)";
    CreditCard => "CREDIT_CARD", "Payment card number (12-19 digits, issuer range, Luhn)";
    IbanCode => "IBAN_CODE", "International bank account number (per-country length, mod-97)";
    EmailAddress => "EMAIL_ADDRESS", "E-mail address";
    PhoneNumber => "PHONE_NUMBER", "Telephone number in international or national format (libphonenumber metadata)";
    IpAddress => "IP_ADDRESS", "IPv4 or IPv6 address";
    MacAddress => "MAC_ADDRESS", "MAC (EUI-48) address";
    UsSsn => "US_SSN", "US Social Security number";
    Crypto => "CRYPTO", "Bitcoin address (base58check or bech32/bech32m)";
    Url => "URL", "URL with a scheme or starting with www.";
    PrivateKey => "PRIVATE_KEY", "PEM private key block";
    ApiKey => "API_KEY", "Provider API key or token (AWS, GitHub, Slack, OpenAI-style, Google, Stripe, JWT)";
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The entity of a finding: a built-in type or one of the scanner's deny-list entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entity {
    /// A built-in type.
    Builtin(EntityType),
    /// A deny-list entity, by its index in the scanner's configuration.
    Custom(u16),
}

impl From<EntityType> for Entity {
    fn from(e: EntityType) -> Self {
        Entity::Builtin(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for e in EntityType::ALL {
            assert!(seen.insert(e.name()));
            assert_eq!(EntityType::from_name(e.name()), Some(*e));
            assert_eq!(EntityType::from_name(&e.name().to_lowercase()), Some(*e));
        }
        assert_eq!(EntityType::ALL.len(), 18);
        assert_eq!(EntityType::from_name("PERSON"), None);
    }
}
