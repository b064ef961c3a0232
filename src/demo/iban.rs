//! Demo bank accounts: IBANs with correct check digits, and the national check digits of the
//! countries whose banks verify them (FR RIB key, BE, ES, IT CIN), so that the accounts look
//! like the ones a real CRM holds.

use super::rng::Rng;

/// How a country's BBAN is built after its bank code (lengths from the SWIFT IBAN registry).
#[derive(Debug, Clone, Copy)]
pub(super) enum Bban {
    /// Bank code, then random digits up to `len` characters.
    Plain {
        /// Length of the BBAN.
        len: usize,
    },
    /// France: bank (5) + branch (5) + account (11) + RIB key (2).
    France,
    /// Belgium: bank (3) + account (7) + check (2) = the first ten digits mod 97.
    Belgium,
    /// Spain: bank (4) + branch (4) + two control digits + account (10).
    Spain,
    /// Italy: CIN letter + ABI (5) + CAB (5) + account (12).
    Italy,
}

impl Bban {
    /// A BBAN of this layout at the bank `bank_code`.
    fn build(self, bank_code: &str, rng: &mut Rng) -> String {
        match self {
            Self::Plain { len } => format!("{bank_code}{}", rng.digits(len.saturating_sub(bank_code.len()))),
            Self::France => {
                let (branch, account) = (rng.digits(5), rng.digits(11));
                let key = 97 - mod97(&format!("{bank_code}{branch}{account}00"));
                format!("{bank_code}{branch}{account}{key:02}")
            }
            Self::Belgium => {
                let first = format!("{bank_code}{}", rng.digits(7));
                let check = match mod97(&first) {
                    0 => 97,
                    r => r,
                };
                format!("{first}{check:02}")
            }
            Self::Spain => {
                let (branch, account) = (rng.digits(4), rng.digits(10));
                let d1 = spanish_control(&format!("00{bank_code}{branch}"));
                let d2 = spanish_control(&account);
                format!("{bank_code}{branch}{d1}{d2}{account}")
            }
            Self::Italy => {
                let rest = format!("{bank_code}{}{}", rng.digits(5), rng.digits(12));
                format!("{}{rest}", italian_cin(&rest))
            }
        }
    }
}

/// A full IBAN in electronic form: country, ISO 13616 check digits, BBAN.
pub(super) fn iban(country: &str, layout: Bban, bank_code: &str, rng: &mut Rng) -> String {
    let bban = layout.build(bank_code, rng);
    let check = 98 - mod97(&format!("{bban}{country}00"));
    format!("{country}{check:02}{bban}")
}

/// ISO 7064 MOD 97-10 of an alphanumeric string, letters counting as 10 (A) to 35 (Z).
fn mod97(s: &str) -> u32 {
    s.chars().fold(0u32, |acc, c| match c.to_digit(36) {
        Some(v) if v >= 10 => (acc * 100 + v) % 97,
        Some(v) => (acc * 10 + v) % 97,
        None => acc,
    })
}

/// One Spanish control digit over ten digits (weights 1, 2, 4, 8, 5, 10, 9, 7, 3, 6).
fn spanish_control(ten_digits: &str) -> u32 {
    const WEIGHTS: [u32; 10] = [1, 2, 4, 8, 5, 10, 9, 7, 3, 6];
    let sum: u32 = ten_digits
        .chars()
        .filter_map(|c| c.to_digit(10))
        .zip(WEIGHTS)
        .map(|(d, w)| d * w)
        .sum();
    match 11 - sum % 11 {
        11 => 0,
        10 => 1,
        d => d,
    }
}

/// The Italian CIN: odd positions (1st, 3rd, ...) through the odd table, even ones by value.
fn italian_cin(digits: &str) -> char {
    const ODD: [u32; 10] = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21];
    let sum: u32 = digits
        .chars()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { ODD[d as usize] } else { d })
        .sum();
    char::from(b'A' + (sum % 26) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sepa::Iban;

    #[test]
    fn known_national_check_digits() {
        // FR76 3000 6000 0112 3456 7890 189: bank 30006, branch 00001, account 12345678901,
        // RIB key 89.
        assert_eq!(97 - mod97("30006000011234567890100"), 89);
        // BE68 5390 0754 7034: 5390075470 mod 97 = 34.
        assert_eq!(mod97("5390075470"), 34);
        // ES91 2100 0418 4502 0005 1332: control digits 45.
        assert_eq!(spanish_control("0021000418"), 4);
        assert_eq!(spanish_control("0200051332"), 5);
        // IT60 X054 2811 1010 0000 0123 456: CIN X.
        assert_eq!(italian_cin("0542811101000000123456"), 'X');
    }

    #[test]
    fn every_layout_gives_ibans_the_registry_accepts() {
        let cases = [
            ("FR", Bban::France, "30004"),
            ("BE", Bban::Belgium, "539"),
            ("ES", Bban::Spain, "2100"),
            ("IT", Bban::Italy, "05428"),
            ("DE", Bban::Plain { len: 18 }, "37040044"),
            ("NL", Bban::Plain { len: 14 }, "ABNA"),
        ];
        for (country, layout, bank) in cases {
            let mut rng = Rng::new(9, 9);
            for _ in 0..200 {
                let s = iban(country, layout, bank, &mut rng);
                assert!(Iban::parse(&s).is_ok(), "{s}");
            }
        }
    }
}
