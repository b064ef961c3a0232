//! Who the demo customers are: per country, names as people write them (accents, Greek and
//! Cyrillic letters, apostrophes — transliterated only when they reach a bank file), streets,
//! towns, banks and the account layout of their IBANs.
//!
//! Mostly euro-area countries, weighted roughly like a French subscription business's book,
//! plus Switzerland and the United Kingdom: SEPA but outside the EEA, where every debtor needs
//! a postal address.

use super::iban::Bban;

/// One country's material.
#[derive(Debug)]
pub(super) struct Country {
    /// ISO 3166 code.
    pub code: &'static str,
    /// Relative share of customers.
    pub weight: u64,
    /// Given names.
    pub first: &'static [&'static str],
    /// Family names.
    pub last: &'static [&'static str],
    /// Street names.
    pub streets: &'static [&'static str],
    /// (postcode, town).
    pub towns: &'static [(&'static str, &'static str)],
    /// (bank code that starts the BBAN, the bank's BIC).
    pub banks: &'static [(&'static str, &'static str)],
    /// How the rest of the BBAN is built.
    pub bban: Bban,
    /// Mail domain of its customers.
    pub mail_domain: &'static str,
    /// Outside the EEA: the customer must have an address to be collected.
    pub outside_eea: bool,
}

/// Every country of the demo book.
pub(super) const COUNTRIES: &[Country] = &[
    Country {
        code: "FR",
        weight: 300,
        first: &[
            "Élodie",
            "Camille",
            "Léa",
            "Chloé",
            "Hélène",
            "François",
            "Jérôme",
            "Noël",
            "Benoît",
            "Zoé",
            "Gaëlle",
            "Loïc",
            "Mathis",
            "Inès",
            "Renée",
        ],
        last: &[
            "Martin",
            "Bernard",
            "Dubois",
            "Lefèvre",
            "Girard",
            "Rousseau",
            "Fontaine",
            "Chevalier",
            "Mercier",
            "Lambert",
            "Bénard",
            "Lemaître",
            "Faure",
            "Dupont-Aignan",
            "Le Bihan",
        ],
        streets: &[
            "Rue de la République",
            "Avenue Jean Jaurès",
            "Boulevard Voltaire",
            "Rue du Faubourg Saint-Antoine",
            "Place Bellecour",
            "Chemin des Écoliers",
            "Allée des Tilleuls",
        ],
        towns: &[
            ("75011", "Paris"),
            ("69002", "Lyon"),
            ("13001", "Marseille"),
            ("31000", "Toulouse"),
            ("44000", "Nantes"),
            ("67000", "Strasbourg"),
            ("59800", "Lille"),
            ("34000", "Montpellier"),
        ],
        banks: &[
            ("30004", "BNPAFRPP"),
            ("20041", "PSSTFRPP"),
            ("30003", "SOGEFRPP"),
            ("10278", "CMCIFR2A"),
            ("30002", "CRLYFRPP"),
        ],
        bban: Bban::France,
        mail_domain: "exemple.fr",
        outside_eea: false,
    },
    Country {
        code: "DE",
        weight: 180,
        first: &[
            "Jürgen", "Günther", "Käthe", "Sören", "Ursula", "Lukas", "Jonas", "Anna", "Mia", "Felix", "Jörg", "Bärbel",
        ],
        last: &[
            "Müller",
            "Schmidt",
            "Schröder",
            "Weiß",
            "Groß",
            "Köhler",
            "Fischer",
            "Wagner",
            "Becker",
            "Hoffmann",
            "Schäfer",
            "Krüger",
        ],
        streets: &[
            "Hauptstraße",
            "Bahnhofstraße",
            "Schillerstraße",
            "Gartenweg",
            "Lindenallee",
            "Am Mühlbach",
        ],
        towns: &[
            ("10115", "Berlin"),
            ("80331", "München"),
            ("50667", "Köln"),
            ("20095", "Hamburg"),
            ("60311", "Frankfurt am Main"),
            ("04109", "Leipzig"),
        ],
        banks: &[
            ("37040044", "COBADEFFXXX"),
            ("50010517", "INGDDEFFXXX"),
            ("10010010", "PBNKDEFFXXX"),
            ("70150000", "SSKMDEMMXXX"),
        ],
        bban: Bban::Plain { len: 18 },
        mail_domain: "beispiel.de",
        outside_eea: false,
    },
    Country {
        code: "ES",
        weight: 90,
        first: &[
            "José", "María", "Íñigo", "Begoña", "Lucía", "Sergio", "Ángel", "Nuria", "Andrés", "Mónica",
        ],
        last: &[
            "García",
            "Fernández",
            "López",
            "Martínez",
            "Sánchez",
            "Pérez",
            "Gómez",
            "Núñez",
            "Peña",
            "Ibáñez",
        ],
        streets: &[
            "Calle Mayor",
            "Avenida de la Constitución",
            "Calle de Alcalá",
            "Paseo de Gracia",
            "Plaza de España",
        ],
        towns: &[
            ("28013", "Madrid"),
            ("08007", "Barcelona"),
            ("41001", "Sevilla"),
            ("46002", "València"),
            ("48001", "Bilbao"),
        ],
        banks: &[
            ("2100", "CAIXESBBXXX"),
            ("0049", "BSCHESMMXXX"),
            ("0182", "BBVAESMMXXX"),
        ],
        bban: Bban::Spain,
        mail_domain: "ejemplo.es",
        outside_eea: false,
    },
    Country {
        code: "IT",
        weight: 90,
        first: &[
            "Giuseppe",
            "Francesca",
            "Niccolò",
            "Lucia",
            "Matteo",
            "Chiara",
            "Andrea",
            "Giulia",
            "Nicolò",
            "Ilaria",
        ],
        last: &[
            "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "De Luca", "D'Angelo",
        ],
        streets: &[
            "Via Roma",
            "Corso Vittorio Emanuele II",
            "Via Garibaldi",
            "Piazza del Duomo",
            "Via dei Mille",
        ],
        towns: &[
            ("00184", "Roma"),
            ("20121", "Milano"),
            ("80133", "Napoli"),
            ("10121", "Torino"),
            ("50122", "Firenze"),
        ],
        banks: &[
            ("03069", "BCITITMMXXX"),
            ("02008", "UNCRITMMXXX"),
            ("05428", "BLOPIT22XXX"),
        ],
        bban: Bban::Italy,
        mail_domain: "esempio.it",
        outside_eea: false,
    },
    Country {
        code: "NL",
        weight: 60,
        first: &["Daan", "Sanne", "Bram", "Fleur", "Joost", "Femke", "Thijs", "Anouk"],
        last: &[
            "de Jong",
            "Jansen",
            "de Vries",
            "van den Berg",
            "van Dijk",
            "Bakker",
            "Visser",
            "Smit",
        ],
        streets: &["Kerkstraat", "Dorpsstraat", "Prinsengracht", "Stationsweg", "Molenweg"],
        towns: &[
            ("1015 CJ", "Amsterdam"),
            ("3011 AD", "Rotterdam"),
            ("3511 LX", "Utrecht"),
            ("2511 CV", "Den Haag"),
        ],
        banks: &[("ABNA", "ABNANL2A"), ("INGB", "INGBNL2A"), ("RABO", "RABONL2U")],
        bban: Bban::Plain { len: 14 },
        mail_domain: "voorbeeld.nl",
        outside_eea: false,
    },
    Country {
        code: "BE",
        weight: 50,
        first: &[
            "Lotte", "Wout", "Amélie", "Maxime", "Thibault", "Elise", "Arthur", "Noémie",
        ],
        last: &[
            "Peeters",
            "Janssens",
            "Maes",
            "Dubois",
            "Lambert",
            "Van Damme",
            "De Smet",
            "Claes",
        ],
        streets: &["Rue Neuve", "Meir", "Avenue Louise", "Veldstraat", "Grand-Place"],
        towns: &[
            ("1000", "Bruxelles"),
            ("2000", "Antwerpen"),
            ("9000", "Gent"),
            ("4000", "Liège"),
        ],
        banks: &[("539", "BBRUBEBB"), ("001", "GEBABEBB"), ("735", "KREDBEBB")],
        bban: Bban::Belgium,
        mail_domain: "exemple.be",
        outside_eea: false,
    },
    Country {
        code: "AT",
        weight: 30,
        first: &["Florian", "Magdalena", "Lukas", "Johanna", "Maximilian", "Theresa"],
        last: &["Gruber", "Huber", "Bauer", "Wagner", "Pichler", "Steiner", "Moser"],
        streets: &[
            "Mariahilfer Straße",
            "Getreidegasse",
            "Landstraßer Hauptstraße",
            "Herrengasse",
        ],
        towns: &[
            ("1060", "Wien"),
            ("5020", "Salzburg"),
            ("8010", "Graz"),
            ("6020", "Innsbruck"),
        ],
        banks: &[
            ("19043", "BKAUATWWXXX"),
            ("20111", "GIBAATWWXXX"),
            ("32000", "RLNWATWWXXX"),
        ],
        bban: Bban::Plain { len: 16 },
        mail_domain: "beispiel.at",
        outside_eea: false,
    },
    Country {
        code: "IE",
        weight: 20,
        first: &["Siobhán", "Seán", "Aoife", "Pádraig", "Niamh", "Ciarán", "Órla"],
        last: &[
            "Murphy",
            "Kelly",
            "O'Sullivan",
            "Walsh",
            "Ó Briain",
            "Mac Giolla Phádraig",
            "Byrne",
        ],
        streets: &["Grafton Street", "O'Connell Street", "Patrick Street", "Shop Street"],
        towns: &[("D02 X285", "Dublin"), ("T12 RX26", "Cork"), ("H91 E2K3", "Galway")],
        banks: &[("AIBK", "AIBKIE2D"), ("BOFI", "BOFIIE2D")],
        bban: Bban::Plain { len: 18 },
        mail_domain: "example.ie",
        outside_eea: false,
    },
    Country {
        code: "PT",
        weight: 30,
        first: &["João", "Inês", "Gonçalo", "Conceição", "Tomás", "Beatriz"],
        last: &["Silva", "Santos", "Ferreira", "Gonçalves", "Simões", "Magalhães"],
        streets: &[
            "Rua Augusta",
            "Avenida da Liberdade",
            "Rua de Santa Catarina",
            "Praça do Comércio",
        ],
        towns: &[("1100-053", "Lisboa"), ("4000-322", "Porto"), ("3000-143", "Coimbra")],
        banks: &[("0035", "CGDIPTPLXXX"), ("0033", "BCOMPTPLXXX")],
        bban: Bban::Plain { len: 21 },
        mail_domain: "exemplo.pt",
        outside_eea: false,
    },
    Country {
        code: "FI",
        weight: 15,
        first: &["Aino", "Väinö", "Eetu", "Siiri", "Jääkko", "Helmi"],
        last: &["Korhonen", "Virtanen", "Mäkinen", "Hämäläinen", "Nieminen", "Järvinen"],
        streets: &["Mannerheimintie", "Hämeenkatu", "Aleksanterinkatu", "Kauppakatu"],
        towns: &[("00100", "Helsinki"), ("33100", "Tampere"), ("20100", "Turku")],
        banks: &[("123", "NDEAFIHH"), ("800", "OKOYFIHH")],
        bban: Bban::Plain { len: 14 },
        mail_domain: "esimerkki.fi",
        outside_eea: false,
    },
    Country {
        code: "PL",
        weight: 30,
        first: &[
            "Łukasz",
            "Małgorzata",
            "Wojciech",
            "Zofia",
            "Grzegorz",
            "Agnieszka",
            "Paweł",
        ],
        last: &[
            "Nowak",
            "Kowalski",
            "Wiśniewski",
            "Wójcik",
            "Łuczak",
            "Żak",
            "Szymańska",
        ],
        streets: &[
            "ulica Marszałkowska",
            "ulica Długa",
            "aleja Grunwaldzka",
            "ulica Świętojańska",
        ],
        towns: &[
            ("00-026", "Warszawa"),
            ("31-042", "Kraków"),
            ("80-831", "Gdańsk"),
            ("50-101", "Wrocław"),
        ],
        banks: &[("10901014", "WBKPPLPPXXX"), ("11602202", "BIGBPLPWXXX")],
        bban: Bban::Plain { len: 24 },
        mail_domain: "przyklad.pl",
        outside_eea: false,
    },
    Country {
        code: "GR",
        weight: 25,
        first: &["Γιώργος", "Μαρία", "Νίκος", "Ελένη", "Δημήτρης", "Κατερίνα"],
        last: &[
            "Παπαδόπουλος",
            "Οικονόμου",
            "Γεωργίου",
            "Νικολάου",
            "Παπαδοπούλου",
            "Καραγιάννης",
        ],
        streets: &["Οδός Ερμού", "Λεωφόρος Συγγρού", "Οδός Τσιμισκή", "Οδός Αθηνάς"],
        towns: &[("105 63", "Αθήνα"), ("546 22", "Θεσσαλονίκη"), ("262 21", "Πάτρα")],
        banks: &[("011", "ETHNGRAAXXX"), ("017", "PIRBGRAAXXX")],
        bban: Bban::Plain { len: 23 },
        mail_domain: "paradeigma.gr",
        outside_eea: false,
    },
    Country {
        code: "BG",
        weight: 15,
        first: &["Иван", "Мария", "Георги", "Елена", "Димитър", "Цветелина"],
        last: &["Петров", "Иванова", "Георгиев", "Димитрова", "Николов", "Щерев"],
        streets: &["улица Витоша", "булевард Цар Освободител", "улица Шипка"],
        towns: &[("1000", "София"), ("4000", "Пловдив"), ("9000", "Варна")],
        banks: &[("BNBG", "BNBGBGSFXXX"), ("UNCR", "UNCRBGSFXXX")],
        bban: Bban::Plain { len: 18 },
        mail_domain: "primer.bg",
        outside_eea: false,
    },
    Country {
        code: "LU",
        weight: 10,
        first: &["Mathis", "Léonie", "Gilles", "Tessy"],
        last: &["Schmit", "Muller", "Weber", "Hoffmann", "Kieffer"],
        streets: &["Grand-Rue", "Avenue de la Liberté", "Rue de Hollerich"],
        towns: &[("1660", "Luxembourg"), ("4002", "Esch-sur-Alzette")],
        banks: &[("001", "BCEELULLXXX"), ("019", "BILLLULLXXX")],
        bban: Bban::Plain { len: 16 },
        mail_domain: "exemple.lu",
        outside_eea: false,
    },
    Country {
        code: "CH",
        weight: 35,
        first: &["Reto", "Ursina", "Beat", "Mélanie", "Luca", "Nicole", "Jürg"],
        last: &["Meier", "Keller", "Brunner", "Favre", "Rochat", "Zürcher", "Bühler"],
        streets: &["Bahnhofstrasse", "Rue du Rhône", "Marktgasse", "Via Nassa"],
        towns: &[
            ("8001", "Zürich"),
            ("1204", "Genève"),
            ("3011", "Bern"),
            ("6900", "Lugano"),
        ],
        banks: &[
            ("00762", "UBSWCHZH80A"),
            ("00700", "ZKBKCHZZ80A"),
            ("04835", "CRESCHZZ80A"),
        ],
        bban: Bban::Plain { len: 17 },
        mail_domain: "beispiel.ch",
        outside_eea: true,
    },
    Country {
        code: "GB",
        weight: 30,
        first: &["Oliver", "Amelia", "Harry", "Isla", "George", "Eleanor", "Rhys"],
        last: &["Smith", "Jones", "Taylor", "Brown", "Williams", "O'Connor", "Ap Rhys"],
        streets: &[
            "High Street",
            "Deansgate",
            "Station Road",
            "Church Lane",
            "Queen's Road",
        ],
        towns: &[
            ("SW1A 1AA", "London"),
            ("M3 4LQ", "Manchester"),
            ("EH1 1YZ", "Edinburgh"),
            ("CF10 1EP", "Cardiff"),
        ],
        banks: &[
            ("NWBK", "NWBKGB2LXXX"),
            ("BARC", "BARCGB22XXX"),
            ("LOYD", "LOYDGB2LXXX"),
        ],
        bban: Bban::Plain { len: 18 },
        mail_domain: "example.co.uk",
        outside_eea: true,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::records::{PostalAddress, parse_name};
    use crate::sepa::{Bic, Iban};

    #[test]
    fn every_table_entry_is_accepted_by_the_import_rules() {
        let mut rng = super::super::rng::Rng::new(1, 1);
        for c in COUNTRIES {
            for (first, last) in c.first.iter().zip(c.last.iter().cycle()) {
                parse_name(&format!("{first} {last}")).unwrap();
            }
            for street in c.streets {
                for (postcode, town) in c.towns {
                    let a =
                        PostalAddress::from_parts(Some(street), Some("12"), Some(postcode), Some(town), Some(c.code));
                    assert!(matches!(a, Ok(Some(_))), "{street} {postcode} {town}: {a:?}");
                }
            }
            for (bank, bic) in c.banks {
                Bic::parse(bic).unwrap();
                let iban = Iban::parse(&super::super::iban::iban(c.code, c.bban, bank, &mut rng)).unwrap();
                assert!(iban.is_sepa(), "{iban}");
                assert_eq!(iban.requires_debtor_address(), c.outside_eea, "{iban}");
            }
        }
    }
}
