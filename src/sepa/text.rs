//! Free text in SEPA messages: names, address lines, remittance information.

use std::fmt;

use sepa::charset::Transliteration;

use super::ParseError;

/// Whether `c` is in the SEPA Latin character set (EPC217-08 §1.4): `a-z A-Z 0-9`, space and
/// `/ - ? : ( ) . , ' +`. Banks refuse a file carrying anything else.
pub fn is_sepa_char(c: char) -> bool {
    sepa::charset::is_sepa_char(c)
}

/// Text that holds only SEPA Latin characters, at most `MAX` of them, never empty.
///
/// Built by transliterating arbitrary Unicode with the published EPC217-08 table (through the
/// `sepa` crate, strict `Epc` style: `Müller` → `Muller`, `Щ` → `SHT`, unknown → `.`), with
/// every kind of whitespace folded to one space and the ends trimmed. The length bound lives in
/// the type (`SepaText<70>` for names, `SepaText<140>` for remittance information), so a value
/// too long for its XML element cannot exist.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SepaText<const MAX: usize>(String);

/// A party name (`Nm`, at most 70 characters).
pub type Name = SepaText<70>;
/// Unstructured remittance information (`Ustrd`, at most 140 characters).
pub type Remittance = SepaText<140>;
/// A postal address element (street, town, address line: at most 70 characters).
pub type AddressText = SepaText<70>;

fn transliterate(input: &str) -> String {
    let mut folded = String::with_capacity(input.len());
    for word in input.split(|c: char| c.is_whitespace() || c.is_control()) {
        if word.is_empty() {
            continue;
        }
        if !folded.is_empty() {
            folded.push(' ');
        }
        folded.push_str(word);
    }
    sepa::charset::transliterate(&folded, Transliteration::Epc).into_owned()
}

impl<const MAX: usize> SepaText<MAX> {
    /// Transliterates `input`; refuses it when nothing is left or it is longer than `MAX`.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let text = transliterate(input);
        let text = text.trim();
        let len = text.chars().count();
        if len == 0 {
            return Err(ParseError::new("SEPA text", input, "is empty"));
        }
        if len > MAX {
            return Err(ParseError::new(
                "SEPA text",
                input,
                format!("is {len} characters long, at most {MAX} are allowed"),
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// Transliterates `input` and cuts it to `MAX` characters, as banks do with long names
    /// and remittance texts; refuses it only when nothing is left.
    pub fn truncated(input: &str) -> Result<Self, ParseError> {
        let text = transliterate(input);
        // The SEPA set is ASCII, so characters are bytes here.
        let cut = &text[..text.len().min(MAX)];
        let cut = cut.trim();
        if cut.is_empty() {
            return Err(ParseError::new("SEPA text", input, "is empty"));
        }
        Ok(Self(cut.to_owned()))
    }

    /// The text as written to XML (it never needs escaping).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> fmt::Display for SepaText<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<const MAX: usize> fmt::Debug for SepaText<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SepaText<{MAX}>({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transliterates_with_the_epc_table() {
        assert_eq!(Name::parse("Müller & Söhne").unwrap().as_str(), "Muller + Sohne");
        assert_eq!(Name::parse("Ærøskøbing").unwrap().as_str(), "Aroskobing");
        assert_eq!(Name::parse("Щука").unwrap().as_str(), "SHTuka");
        assert_eq!(Name::parse("  José\t\n García ").unwrap().as_str(), "Jose Garcia");
        assert_eq!(
            Remittance::parse("Facture n° 12 <b>").unwrap().as_str(),
            "Facture n. 12 (b)"
        );
    }

    #[test]
    fn length_is_checked_after_transliteration() {
        assert!(SepaText::<3>::parse("abc").is_ok());
        let e = SepaText::<3>::parse("Щук").unwrap_err();
        assert!(e.reason.contains("5 characters"), "{e}");
        assert_eq!(SepaText::<3>::truncated("Щук").unwrap().as_str(), "SHT");
        assert_eq!(SepaText::<4>::truncated("ab  cdef").unwrap().as_str(), "ab c");
    }

    #[test]
    fn empty_text_is_refused() {
        assert!(Name::parse("   ").is_err());
        assert!(Name::truncated("\n\t").is_err());
    }
}
