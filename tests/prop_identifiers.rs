//! Property tests for the SEPA identifier newtypes of `collecte::sepa`.
//!
//! The oracles here are written from the published rules, not copied from the library:
//! the IBAN structures of the SEPA countries (SWIFT IBAN registry, one table below), the
//! ISO 13616 and ISO 7064 MOD 97-10 check digits, the EPC identifier rule and the SEPA Latin
//! character set. Where the `sepa` crate carries the same knowledge, a plain test checks that
//! the two agree, so a registry change shows up as a failing test rather than a silent drift.

use collecte::sepa::{
    Bic, CountryCode, CreditorId, EndToEndId, Iban, MandateId, MessageId, Money, ParseError, PaymentInfoId, SepaText,
    is_sepa_char,
    money::MAX_CENTS,
    text::{Name, Remittance},
};
use proptest::prelude::*;
use proptest::sample::Index;

// ── The SEPA countries' IBANs ─────────────────────────────────────────────────────────────────

/// Every IBAN country of the SEPA scheme area (EPC409-09 v8.0, December 2025: 42 codes; Jersey,
/// Guernsey and the Isle of Man bank under `GB` IBANs): country, IBAN length, BBAN structure in
/// SWIFT registry notation (`n` digits, `a` upper-case letters, `c` upper-case alphanumerics;
/// the registry's `!` dropped), and whether the country is in the EEA.
const SEPA_IBANS: [(&str, usize, &str, bool); 42] = [
    ("AD", 24, "4n4n12c", false),
    ("AL", 28, "8n16c", false),
    ("AT", 20, "5n11n", true),
    ("BE", 16, "3n7n2n", true),
    ("BG", 22, "4a4n2n8c", true),
    ("CH", 21, "5n12c", false),
    ("CY", 28, "3n5n16c", true),
    ("CZ", 24, "4n6n10n", true),
    ("DE", 22, "8n10n", true),
    ("DK", 18, "4n9n1n", true),
    ("EE", 20, "2n2n11n1n", true),
    ("ES", 24, "4n4n1n1n10n", true),
    ("FI", 18, "3n11n", true),
    ("FR", 27, "5n5n11c2n", true),
    ("GB", 22, "4a6n8n", false),
    ("GI", 23, "4a15c", false),
    ("GR", 27, "3n4n16c", true),
    ("HR", 21, "7n10n", true),
    ("HU", 28, "3n4n1n15n1n", true),
    ("IE", 22, "4a6n8n", true),
    ("IS", 26, "4n2n6n10n", true),
    ("IT", 27, "1a5n5n12c", true),
    ("LI", 21, "5n12c", true),
    ("LT", 20, "5n11n", true),
    ("LU", 20, "3n13c", true),
    ("LV", 21, "4a13c", true),
    ("MC", 27, "5n5n11c2n", false),
    ("MD", 24, "2c18c", false),
    ("ME", 22, "3n13n2n", false),
    ("MK", 19, "3n10c2n", false),
    ("MT", 31, "4a5n18c", true),
    ("NL", 18, "4a10n", true),
    ("NO", 15, "4n6n1n", true),
    ("PL", 28, "8n16n", true),
    ("PT", 25, "4n4n11n2n", true),
    ("RO", 24, "4a16c", true),
    ("RS", 22, "3n13n2n", false),
    ("SE", 24, "3n16n1n", true),
    ("SI", 19, "5n8n2n", true),
    ("SK", 24, "4n6n10n", true),
    ("SM", 27, "1a5n5n12c", false),
    ("VA", 22, "3n15n", false),
];

/// The longest BBAN in the table (Malta, 27).
const MAX_BBAN: usize = 30;

const DIGITS: &[u8] = b"0123456789";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// `"4a6n8n"` → `"aaaannnnnnnnnnnnnn"`: one class symbol per BBAN position.
fn expand(structure: &str) -> String {
    let mut out = String::new();
    let mut count = 0usize;
    for c in structure.chars() {
        match c {
            '0'..='9' => count = count * 10 + (c as usize - '0' as usize),
            'n' | 'a' | 'c' => {
                assert!(count > 0, "{structure}: class {c} without a count");
                out.extend(std::iter::repeat_n(c, count));
                count = 0;
            }
            _ => panic!("{structure}: unexpected {c:?}"),
        }
    }
    assert_eq!(count, 0, "{structure}: trailing count");
    out
}

/// Fills a BBAN structure from random bytes, each position with a character of its class.
fn fill_bban(structure: &str, bytes: &[u8]) -> String {
    expand(structure)
        .chars()
        .zip(bytes)
        .map(|(class, b)| {
            let set = match class {
                'n' => DIGITS,
                'a' => UPPER,
                _ => ALNUM,
            };
            char::from(set[usize::from(*b) % set.len()])
        })
        .collect()
}

/// Remainder mod 97 of `s` read as ISO 7064 digits (0–9 as themselves, A–Z as 10–35).
fn mod97(s: &str) -> u32 {
    s.chars().fold(0, |acc, c| {
        let v = c.to_digit(36).expect("alphanumeric");
        if v < 10 {
            (acc * 10 + v) % 97
        } else {
            (acc * 100 + v) % 97
        }
    })
}

/// ISO 13616 check digits: 98 − (BBAN + country + "00") mod 97.
fn iban_check_digits(country: &str, bban: &str) -> String {
    format!("{:02}", 98 - mod97(&format!("{bban}{country}00")))
}

/// A valid IBAN in electronic form.
fn make_iban(country: &str, bban: &str) -> String {
    format!("{country}{}{bban}", iban_check_digits(country, bban))
}

/// Groups of four separated by single spaces, the print form.
fn grouped(electronic: &str) -> String {
    electronic
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).expect("ASCII"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A different character of the same class as `c` (digit → digit, letter → letter).
fn same_class_other(c: char, shift: usize) -> char {
    let set = if c.is_ascii_digit() { DIGITS } else { UPPER };
    let at = set.iter().position(|b| char::from(*b) == c).expect("IBAN char");
    // shift in 1..len-1 never comes back to `at`.
    char::from(set[(at + 1 + shift % (set.len() - 1)) % set.len()])
}

fn replace_at(s: &str, i: usize, c: char) -> String {
    let mut out = s.to_owned();
    out.replace_range(i..i + 1, c.encode_utf8(&mut [0; 4]));
    out
}

#[test]
fn the_sepa_iban_table_agrees_with_the_sepa_crate() {
    for (cc, len, structure, _) in SEPA_IBANS {
        let symbols = expand(structure);
        assert_eq!(symbols.len() + 4, len, "{cc}: {structure} is not {len} long");
        assert_eq!(sepa::iban::iban_bban_format(cc), Some(symbols.as_str()), "{cc}");
        assert_eq!(sepa::iban::iban_country_length(cc), Some(len), "{cc}");
        assert!(symbols.len() <= MAX_BBAN, "{cc}");
    }
    // Same country set as the EPC list the crate carries, in both directions.
    for a in 'A'..='Z' {
        for b in 'A'..='Z' {
            let cc = format!("{a}{b}");
            let ours = SEPA_IBANS.iter().any(|(c, ..)| *c == cc);
            assert_eq!(ours, sepa::iban::is_sepa_country(&cc), "{cc}");
        }
    }
    // Our check digits are the crate's.
    assert_eq!(iban_check_digits("DE", "370400440532013000"), "89");
    assert_eq!(
        sepa::iban::iban_check_digits("GB", "NWBK60161331926819"),
        iban_check_digits("GB", "NWBK60161331926819")
    );
}

/// EPC rulebook: a collection from a debtor whose bank is in a non-EEA SEPA country must
/// carry the debtor's postal address. Every SEPA country, not a sample.
#[test]
fn non_eea_sepa_ibans_require_a_debtor_address() {
    let mut wrong = Vec::new();
    for (cc, _, structure, eea) in SEPA_IBANS {
        let iban =
            Iban::parse(&make_iban(cc, &fill_bban(structure, &[7; MAX_BBAN]))).unwrap_or_else(|e| panic!("{cc}: {e}"));
        assert!(iban.is_sepa(), "{cc}");
        if iban.requires_debtor_address() == eea {
            wrong.push(format!("{cc} (EEA: {eea})"));
        }
    }
    assert!(
        wrong.is_empty(),
        "requires_debtor_address() is wrong for {}",
        wrong.join(", ")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Each case builds one random IBAN for every one of the 42 SEPA countries.
    #[test]
    fn random_valid_ibans_of_every_sepa_country_parse(bytes in prop::collection::vec(any::<u8>(), MAX_BBAN)) {
        for (cc, len, structure, _) in SEPA_IBANS {
            let bban = fill_bban(structure, &bytes);
            let electronic = make_iban(cc, &bban);
            prop_assert_eq!(electronic.len(), len);
            prop_assert_eq!(
                electronic[2..4].to_owned(),
                sepa::iban::iban_check_digits(cc, &bban)
            );

            let iban = Iban::parse(&electronic);
            prop_assert!(iban.is_ok(), "{} refused: {:?}", electronic, iban);
            let iban = iban.unwrap();
            prop_assert_eq!(iban.as_str(), electronic.as_str());
            prop_assert_eq!(iban.country(), cc);
            prop_assert!(iban.is_sepa(), "{}", electronic);

            let print = iban.to_string();
            prop_assert_eq!(print.clone(), grouped(&electronic));
            prop_assert!(print.split(' ').all(|g| (1..=4).contains(&g.len())));
            prop_assert!(print.split(' ').rev().skip(1).all(|g| g.len() == 4));

            // The print form, lower case too, parses back to the same value.
            for form in [print.clone(), print.to_ascii_lowercase(), format!(" {electronic}\t")] {
                let again = Iban::parse(&form);
                prop_assert_eq!(again.as_ref(), Ok(&iban), "{:?}", form);
            }
        }
    }

    /// Each case alters one position of one random IBAN of every SEPA country.
    #[test]
    fn one_changed_character_makes_an_iban_invalid(
        bytes in prop::collection::vec(any::<u8>(), MAX_BBAN),
        pos in any::<Index>(),
        shift in any::<usize>(),
    ) {
        for (cc, _, structure, _) in SEPA_IBANS {
            let valid = make_iban(cc, &fill_bban(structure, &bytes));
            let i = pos.index(valid.len());
            let old = valid.as_bytes()[i] as char;
            let altered = replace_at(&valid, i, same_class_other(old, shift));
            prop_assert_ne!(&altered, &valid);
            let parsed = Iban::parse(&altered);
            prop_assert!(
                parsed.is_err(),
                "{} (from {}, position {}) accepted: {:?}", altered, valid, i, parsed
            );
            // And so is the print form of the altered IBAN.
            prop_assert!(Iban::parse(&grouped(&altered)).is_err(), "{}", altered);
        }
    }
}

// ── Creditor identifiers ──────────────────────────────────────────────────────────────────────

/// EPC262-08: ISO 7064 MOD 97-10 over national id + country + "00"; the business code is not
/// part of it.
fn creditor_check_digits(country: &str, national_id: &str) -> String {
    format!("{:02}", 98 - mod97(&format!("{national_id}{country}00")))
}

fn sepa_country() -> impl Strategy<Value = &'static str> {
    prop::sample::select(SEPA_IBANS.iter().map(|(cc, ..)| *cc).collect::<Vec<_>>())
}

/// (country, business code, national id): national ids are mostly digits, some alphanumeric,
/// 1 to 28 characters (the CI is 8 to 35 long).
fn creditor_parts() -> impl Strategy<Value = (&'static str, String, String)> {
    (
        sepa_country(),
        "[A-Z0-9]{3}",
        prop_oneof!["[0-9]{1,28}", "[0-9A-Z]{1,28}"],
    )
}

#[test]
fn creditor_check_digits_agree_with_the_sepa_crate() {
    assert_eq!(creditor_check_digits("DE", "09999999999"), "98");
    assert_eq!(creditor_check_digits("FR", "123456"), "72");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn creditor_ids_with_computed_check_digits_parse(
        (cc, business, national) in creditor_parts(),
        other_business in "[A-Z0-9]{3}",
    ) {
        let check = creditor_check_digits(cc, &national);
        prop_assert_eq!(
            &check,
            &sepa::creditor_id::creditor_id_check_digits(&national, cc)
        );
        let ci = format!("{cc}{check}{business}{national}");
        let parsed = CreditorId::parse(&ci);
        prop_assert!(parsed.is_ok(), "{} refused: {:?}", ci, parsed);
        let parsed = parsed.unwrap();
        prop_assert_eq!(parsed.as_str(), ci.as_str());

        // Lower case and spaced as on a letter: same identifier.
        let spaced = format!("{} {} {}", &ci[..4], &ci[4..7], &ci[7..]).to_ascii_lowercase();
        prop_assert_eq!(CreditorId::parse(&spaced).map(|c| c.as_str().to_owned()), Ok(ci.clone()));

        // The business code takes no part in the check digits.
        let rebadged = format!("{cc}{check}{other_business}{national}");
        prop_assert!(CreditorId::parse(&rebadged).is_ok(), "{}", rebadged);
    }

    /// One digit of the check digits or of the national id (or one letter of the national id)
    /// replaced by another of its class: refused.
    #[test]
    fn one_changed_character_makes_a_creditor_id_invalid(
        (cc, business, national) in creditor_parts(),
        pos in any::<Index>(),
        shift in any::<usize>(),
    ) {
        let ci = format!("{cc}{}{business}{national}", creditor_check_digits(cc, &national));
        // Positions covered by the check: the check digits (2, 3) and the national id (7..).
        let covered: Vec<usize> = (2..4).chain(7..ci.len()).collect();
        let i = covered[pos.index(covered.len())];
        let old = ci.as_bytes()[i] as char;
        let altered = replace_at(&ci, i, same_class_other(old, shift));
        let parsed = CreditorId::parse(&altered);
        prop_assert!(
            parsed.is_err(),
            "{} (from {}, position {}) accepted: {:?}", altered, ci, i, parsed
        );
    }
}

// ── SEPA text ─────────────────────────────────────────────────────────────────────────────────

/// What every `SepaText<max>` must hold.
fn assert_sepa_text(text: &str, max: usize, input: &str) -> Result<(), TestCaseError> {
    prop_assert!(!text.is_empty(), "{:?} → empty text", input);
    prop_assert!(
        text.chars().count() <= max,
        "{:?} → {} chars > {}: {:?}",
        input,
        text.chars().count(),
        max,
        text
    );
    prop_assert!(
        text.chars().all(is_sepa_char),
        "{:?} → non-SEPA char in {:?}",
        input,
        text
    );
    prop_assert!(
        !text.starts_with(' ') && !text.ends_with(' '),
        "{:?} → space at an end: {:?}",
        input,
        text
    );
    prop_assert!(!text.contains("  "), "{:?} → double space: {:?}", input, text);
    Ok(())
}

/// Nothing but whitespace and control characters: the only input that may come out empty.
fn is_blank(s: &str) -> bool {
    s.chars().all(|c| c.is_whitespace() || c.is_control())
}

fn check_text_properties(s: &str) -> Result<(), TestCaseError> {
    match Name::truncated(s) {
        Ok(name) => {
            assert_sepa_text(name.as_str(), 70, s)?;
            // SEPA text is a fixed point: it parses to itself.
            prop_assert_eq!(Name::parse(name.as_str()), Ok(name.clone()));
        }
        Err(e) => {
            prop_assert!(e.reason.contains("empty"), "{:?}: {}", s, e);
            prop_assert!(is_blank(s), "{:?} has printable characters but came out empty", s);
        }
    }
    match Remittance::parse(s) {
        Ok(text) => {
            assert_sepa_text(text.as_str(), 140, s)?;
            // Whatever parses whole is also what truncation yields.
            prop_assert_eq!(Remittance::truncated(s), Ok(text.clone()));
        }
        Err(e) => prop_assert!(
            e.reason.contains("empty") || e.reason.contains("at most 140"),
            "{:?}: {}",
            s,
            e
        ),
    }
    Ok(())
}

/// Characters a name or remittance text from the outside world may carry.
fn hostile_char() -> impl Strategy<Value = char> {
    use proptest::char::range;
    prop_oneof![
        // Emoji, with joiners, variation selectors and skin tones.
        range('\u{1F300}', '\u{1F6FF}'),
        range('\u{1F900}', '\u{1F9FF}'),
        range('\u{1F3FB}', '\u{1F3FF}'),
        Just('\u{200D}'),
        Just('\u{FE0F}'),
        // Right-to-left scripts and bidi controls.
        range('\u{0590}', '\u{05FF}'),
        range('\u{0600}', '\u{06FF}'),
        range('\u{200E}', '\u{200F}'),
        range('\u{202A}', '\u{202E}'),
        range('\u{2066}', '\u{2069}'),
        // CJK, its punctuation and the full-width forms.
        range('\u{4E00}', '\u{9FFF}'),
        range('\u{3000}', '\u{303F}'),
        range('\u{FF00}', '\u{FFEF}'),
        // Cyrillic, Greek, Latin with accents, combining marks.
        range('\u{0400}', '\u{04FF}'),
        range('\u{0370}', '\u{03FF}'),
        range('\u{00C0}', '\u{024F}'),
        range('\u{0300}', '\u{036F}'),
        // Control characters and every kind of space.
        range('\u{0000}', '\u{001F}'),
        range('\u{007F}', '\u{009F}'),
        prop::sample::select(vec![
            ' ', '\u{A0}', '\u{1680}', '\u{2000}', '\u{2007}', '\u{200A}', '\u{200B}', '\u{2028}', '\u{2029}',
            '\u{202F}', '\u{205F}', '\u{3000}', '\u{FEFF}',
        ]),
        // XML's specials and plain ASCII.
        prop::sample::select(vec!['<', '&', '>', '"', '\'', ';', '_', '~', '@', '\\']),
        range(' ', '~'),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn any_unicode_string_becomes_valid_sepa_text(s in any::<String>()) {
        check_text_properties(&s)?;
    }

    #[test]
    fn hostile_strings_become_valid_sepa_text(
        chars in prop::collection::vec(hostile_char(), 0..220),
    ) {
        let s: String = chars.into_iter().collect();
        check_text_properties(&s)?;
    }
}

#[test]
fn sepa_text_type_bound_is_the_limit() {
    // A long all-SEPA input is cut to exactly the bound and refused whole.
    let long = "Abc ".repeat(60);
    assert_eq!(Name::truncated(&long).unwrap().as_str().len(), 70);
    assert!(Name::parse(&long).is_err());
    assert_eq!(SepaText::<5>::truncated("Щука").unwrap().as_str(), "SHTuk");
}

// ── Money ─────────────────────────────────────────────────────────────────────────────────────

/// `1234567` cents → `"12 345,67"` with `sep` between groups of three (French style).
fn french(cents: i64, sep: char) -> String {
    grouped_amount(cents, sep, ',')
}

fn grouped_amount(cents: i64, thousands: char, decimal: char) -> String {
    assert!(cents >= 0);
    let int = (cents / 100).to_string();
    let mut out = String::new();
    for (i, d) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(thousands);
        }
        out.push(d);
    }
    format!("{out}{decimal}{:02}", cents % 100)
}

/// The whole range, with its edges and small amounts weighted in.
fn in_range_cents() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => 1..=MAX_CENTS,
        2 => 1..=100_000i64,
        1 => prop::sample::select(vec![1, 99, 100, 101, 99_999, 100_000, MAX_CENTS - 1, MAX_CENTS]),
    ]
}

/// Both sides of the range, the values right next to its edges weighted in.
fn out_of_range_cents() -> impl Strategy<Value = i64> {
    prop_oneof![
        1 => prop::sample::select(vec![0, -1, MAX_CENTS + 1, 100_000_000_000, i64::MIN, i64::MAX]),
        2 => -1_000i64..=0,
        2 => (MAX_CENTS + 1)..=(MAX_CENTS + 1_000),
        1 => i64::MIN..=0,
        1 => (MAX_CENTS + 1)..=i64::MAX,
    ]
}

fn money_cents(s: &str) -> Result<i64, ParseError> {
    Money::parse(s).map(Money::cents)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn amounts_in_range_round_trip(
        cents in in_range_cents(),
        sep in prop::sample::select(vec![' ', '\u{A0}', '\u{202F}']),
    ) {
        let money = Money::from_cents(cents).unwrap();
        prop_assert_eq!(money.cents(), cents);
        let xml = money.to_string();
        prop_assert_eq!(xml.clone(), format!("{}.{:02}", cents / 100, cents % 100));
        prop_assert_eq!(money_cents(&xml), Ok(cents), "{}", xml);

        let fr = french(cents, sep);
        prop_assert_eq!(money_cents(&fr), Ok(cents), "{:?}", fr);
        // The other spellings the parser promises.
        for s in [
            grouped_amount(cents, '.', ','),
            grouped_amount(cents, ',', '.'),
            grouped_amount(cents, '\'', '.'),
            xml.replace('.', ","),
        ] {
            prop_assert_eq!(money_cents(&s), Ok(cents), "{:?}", s);
        }
    }

    #[test]
    fn amounts_out_of_range_fail(
        cents in out_of_range_cents(),
    ) {
        prop_assert!(Money::from_cents(cents).is_err(), "{}", cents);
        if cents >= 0 {
            let plain = format!("{}.{:02}", cents / 100, cents % 100);
            prop_assert!(Money::parse(&plain).is_err(), "{}", plain);
            let fr = french(cents, ' ');
            prop_assert!(Money::parse(&fr).is_err(), "{:?}", fr);
        } else {
            let plain = format!("-{}.{:02}", cents.unsigned_abs() / 100, cents.unsigned_abs() % 100);
            prop_assert!(Money::parse(&plain).is_err(), "{}", plain);
        }
    }
}

// ── Scheme identifiers ────────────────────────────────────────────────────────────────────────

/// The SEPA Latin set, in one string.
const SEPA_SET: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-?:().,'+ ";

/// Parses `s` as all four scheme identifier types.
fn parse_all(s: &str) -> [Result<String, ParseError>; 4] {
    [
        MandateId::parse(s).map(|v| v.to_string()),
        EndToEndId::parse(s).map(|v| v.to_string()),
        MessageId::parse(s).map(|v| v.to_string()),
        PaymentInfoId::parse(s).map(|v| v.as_str().to_owned()),
    ]
}

fn valid_id(len: impl Into<prop::collection::SizeRange>) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(SEPA_SET.chars().collect::<Vec<_>>()), len)
        .prop_map(|v| v.into_iter().collect::<String>())
        .prop_filter("EPC identifier rule", |s| {
            !s.starts_with(['/', ' ']) && !s.ends_with(['/', ' ']) && !s.contains("//")
        })
}

#[test]
fn the_sepa_set_is_the_crates() {
    assert_eq!(SEPA_SET.chars().count(), 73);
    assert!(SEPA_SET.chars().all(is_sepa_char));
    let all = (0u32..0x3000).filter_map(char::from_u32).filter(|c| is_sepa_char(*c));
    assert_eq!(all.count(), 73);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn epc_identifiers_parse_to_themselves(id in valid_id(1..=35), pad in "[ \t]{0,3}") {
        for parsed in parse_all(&id) {
            prop_assert_eq!(parsed.as_deref(), Ok(id.as_str()));
        }
        // Surrounding whitespace is trimmed away.
        let padded = format!("{pad}{id}{pad}");
        for parsed in parse_all(&padded) {
            prop_assert_eq!(parsed.as_deref(), Ok(id.as_str()), "{:?}", padded);
        }
    }

    #[test]
    fn broken_epc_identifiers_fail(
        id in valid_id(1..=35),
        full in valid_id(35),
        at in any::<Index>(),
        extra in "[A-Za-z0-9]",
        alien in hostile_char().prop_filter("not SEPA, not blank", |c| {
            !is_sepa_char(*c) && !c.is_whitespace() && !c.is_control()
        }),
    ) {
        let chars: Vec<char> = id.chars().collect();
        let i = at.index(chars.len() + 1);
        let (head, tail): (String, String) = (chars[..i].iter().collect(), chars[i..].iter().collect());

        let double_slash = format!("{head}//{tail}");
        let leading = format!("/{id}");
        let trailing = format!("{id}/");
        let too_long = format!("{full}{extra}");
        let foreign = format!("{head}{alien}{tail}");
        for bad in [&double_slash, &leading, &trailing, &too_long, &foreign] {
            for parsed in parse_all(bad) {
                prop_assert!(parsed.is_err(), "{:?} accepted as {:?}", bad, parsed);
            }
        }
        let e = MandateId::parse(&too_long).unwrap_err();
        prop_assert!(e.reason.contains("36 characters"), "{}", e);
        if double_slash.chars().count() <= 35 {
            let e = EndToEndId::parse(&double_slash).unwrap_err();
            prop_assert!(e.reason.contains('/'), "{}", e);
        }
    }
}

// ── BIC and country codes ─────────────────────────────────────────────────────────────────────

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn bics_of_sepa_countries_parse_in_canonical_form(
        party in "[A-Za-z0-9]{4}",
        cc in sepa_country(),
        location in "[A-Za-z0-9]{2}",
        branch in prop::option::of("[A-Za-z0-9]{3}"),
    ) {
        let branch = branch.unwrap_or_default();
        let raw = format!("{party}{}{location} {branch}", cc.to_ascii_lowercase());
        let expected = format!("{party}{cc}{location}{branch}").to_ascii_uppercase();
        let bic = Bic::parse(&raw);
        prop_assert_eq!(bic.as_ref().map(Bic::as_str), Ok(expected.as_str()), "{:?}", raw);
        // One character short or long: refused.
        prop_assert!(Bic::parse(&expected[1..]).is_err());
        let longer = format!("{expected}X");
        prop_assert!(Bic::parse(&longer).is_err());

        let country = CountryCode::parse(&format!(" {} ", cc.to_ascii_lowercase()));
        prop_assert_eq!(country.as_ref().map(CountryCode::as_str), Ok(cc));
    }
}
