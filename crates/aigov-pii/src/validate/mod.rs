//! Identifier validators, one module per family. Each takes the candidate as written (ASCII
//! after normalisation of full-width characters) and says whether it is a valid identifier.

pub mod cn;
pub mod intl;

pub use cn::{resident_id, uscc, uscc_check, uscc_org_code};
pub use intl::{bitcoin_address, iban, luhn, us_ssn};
