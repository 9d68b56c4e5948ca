//! Marketplaces: the two-letter code an operator gives, the Seller Central
//! and Vendor Central hosts that serve its consent page, and its SP-API
//! region. Source: "Website authorization workflow" and "SP-API endpoints"
//! in the SP-API docs (the table in DESIGN.md).

use std::fmt;

/// An SP-API region. Refresh tokens are regional: a seller in two regions
/// has two profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    /// North America (`na`).
    Na,
    /// Europe, Middle East, India, Africa (`eu`).
    Eu,
    /// Far East (`fe`).
    Fe,
}

impl Region {
    /// `na`, `eu` or `fe`, as stored in profiles and tags.
    pub fn as_str(self) -> &'static str {
        match self {
            Region::Na => "na",
            Region::Eu => "eu",
            Region::Fe => "fe",
        }
    }

    /// Parses `na`, `eu` or `fe` (exactly, lower case).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "na" => Some(Region::Na),
            "eu" => Some(Region::Eu),
            "fe" => Some(Region::Fe),
            _ => None,
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whose consent page: a seller's (Seller Central) or a vendor's (Vendor Central).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Account {
    /// Seller Central (the default).
    Seller,
    /// Vendor Central.
    Vendor,
}

impl Account {
    /// `seller` or `vendor`.
    pub fn as_str(self) -> &'static str {
        match self {
            Account::Seller => "seller",
            Account::Vendor => "vendor",
        }
    }

    /// Parses `seller` or `vendor` (any case).
    pub fn parse(s: &str) -> Option<Self> {
        if s.eq_ignore_ascii_case("seller") {
            Some(Account::Seller)
        } else if s.eq_ignore_ascii_case("vendor") {
            Some(Account::Vendor)
        } else {
            None
        }
    }
}

/// One marketplace of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marketplace {
    /// Two-letter code (`UK` for the United Kingdom).
    pub code: &'static str,
    /// Seller Central host (no scheme).
    pub seller_host: &'static str,
    /// Vendor Central host (no scheme).
    pub vendor_host: &'static str,
    /// The retail domain's top-level part: `amazon.<tld>`.
    pub tld: &'static str,
    /// SP-API region.
    pub region: Region,
}

macro_rules! m {
    ($code:literal, $seller:literal, $vendor:literal, $tld:literal, $region:ident) => {
        Marketplace {
            code: $code,
            seller_host: $seller,
            vendor_host: $vendor,
            tld: $tld,
            region: Region::$region,
        }
    };
}

/// The marketplaces of the SP-API docs' table.
pub const MARKETPLACES: &[Marketplace] = &[
    m!(
        "US",
        "sellercentral.amazon.com",
        "vendorcentral.amazon.com",
        "com",
        Na
    ),
    m!(
        "CA",
        "sellercentral.amazon.ca",
        "vendorcentral.amazon.ca",
        "ca",
        Na
    ),
    m!(
        "MX",
        "sellercentral.amazon.com.mx",
        "vendorcentral.amazon.com.mx",
        "com.mx",
        Na
    ),
    m!(
        "BR",
        "sellercentral.amazon.com.br",
        "vendorcentral.amazon.com.br",
        "com.br",
        Na
    ),
    m!(
        "UK",
        "sellercentral-europe.amazon.com",
        "vendorcentral.amazon.co.uk",
        "co.uk",
        Eu
    ),
    m!(
        "DE",
        "sellercentral-europe.amazon.com",
        "vendorcentral.amazon.de",
        "de",
        Eu
    ),
    m!(
        "FR",
        "sellercentral-europe.amazon.com",
        "vendorcentral.amazon.fr",
        "fr",
        Eu
    ),
    m!(
        "IT",
        "sellercentral-europe.amazon.com",
        "vendorcentral.amazon.it",
        "it",
        Eu
    ),
    m!(
        "ES",
        "sellercentral-europe.amazon.com",
        "vendorcentral.amazon.es",
        "es",
        Eu
    ),
    m!(
        "NL",
        "sellercentral.amazon.nl",
        "vendorcentral.amazon.nl",
        "nl",
        Eu
    ),
    m!(
        "SE",
        "sellercentral.amazon.se",
        "vendorcentral.amazon.se",
        "se",
        Eu
    ),
    m!(
        "PL",
        "sellercentral.amazon.pl",
        "vendorcentral.amazon.pl",
        "pl",
        Eu
    ),
    m!(
        "BE",
        "sellercentral.amazon.com.be",
        "vendorcentral.amazon.com.be",
        "com.be",
        Eu
    ),
    m!(
        "TR",
        "sellercentral.amazon.com.tr",
        "vendorcentral.amazon.com.tr",
        "com.tr",
        Eu
    ),
    m!(
        "AE",
        "sellercentral.amazon.ae",
        "vendorcentral.amazon.me",
        "ae",
        Eu
    ),
    m!(
        "SA",
        "sellercentral.amazon.sa",
        "vendorcentral.amazon.me",
        "sa",
        Eu
    ),
    m!(
        "EG",
        "sellercentral.amazon.eg",
        "vendorcentral.amazon.me",
        "eg",
        Eu
    ),
    m!(
        "IN",
        "sellercentral.amazon.in",
        "www.vendorcentral.in",
        "in",
        Eu
    ),
    m!(
        "ZA",
        "sellercentral.amazon.co.za",
        "vendorcentral.amazon.co.za",
        "co.za",
        Eu
    ),
    m!(
        "JP",
        "sellercentral.amazon.co.jp",
        "vendorcentral.amazon.co.jp",
        "co.jp",
        Fe
    ),
    m!(
        "AU",
        "sellercentral.amazon.com.au",
        "vendorcentral.amazon.com.au",
        "com.au",
        Fe
    ),
    m!(
        "SG",
        "sellercentral.amazon.sg",
        "vendorcentral.amazon.com.sg",
        "sg",
        Fe
    ),
];

impl Marketplace {
    /// Looks up a two-letter code, upper or lower case; `GB` is `UK`.
    pub fn find(code: &str) -> Option<&'static Marketplace> {
        let code = code.trim();
        let code = if code.eq_ignore_ascii_case("GB") {
            "UK"
        } else {
            code
        };
        MARKETPLACES
            .iter()
            .find(|m| m.code.eq_ignore_ascii_case(code))
    }

    /// The consent host for `account`.
    pub fn host(&self, account: Account) -> &'static str {
        match account {
            Account::Seller => self.seller_host,
            Account::Vendor => self.vendor_host,
        }
    }

    /// Every code, for messages.
    pub fn codes() -> String {
        let mut codes: Vec<&str> = MARKETPLACES.iter().map(|m| m.code).collect();
        codes.push("GB");
        codes.join(", ")
    }
}

/// The region of an Amazon host the Login-URI step may call back to: a
/// Seller or Vendor Central host of the table, or `amazon.<tld>` /
/// `www.amazon.<tld>` of a marketplace domain. `host` must already be
/// lower case (as a parsed URL's host is). `None` for any other host.
pub fn region_of_amazon_host(host: &str) -> Option<Region> {
    if let Some(m) = MARKETPLACES
        .iter()
        .find(|m| m.seller_host == host || m.vendor_host == host)
    {
        return Some(m.region);
    }
    let domain = host.strip_prefix("www.").unwrap_or(host);
    let tld = domain.strip_prefix("amazon.")?;
    MARKETPLACES.iter().find(|m| m.tld == tld).map(|m| m.region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_any_case_and_gb_is_uk() {
        assert_eq!(Marketplace::find("de").unwrap().code, "DE");
        assert_eq!(Marketplace::find("GB").unwrap().code, "UK");
        assert_eq!(Marketplace::find("gb").unwrap().code, "UK");
        assert_eq!(Marketplace::find("Jp").unwrap().region, Region::Fe);
        assert!(Marketplace::find("XX").is_none());
        assert!(Marketplace::find("").is_none());
        assert!(Marketplace::find("DEU").is_none());
        assert_eq!(MARKETPLACES.len(), 22);
    }

    #[test]
    fn hosts_by_account() {
        let de = Marketplace::find("DE").unwrap();
        assert_eq!(de.host(Account::Seller), "sellercentral-europe.amazon.com");
        assert_eq!(de.host(Account::Vendor), "vendorcentral.amazon.de");
        assert_eq!(
            Marketplace::find("IN").unwrap().host(Account::Vendor),
            "www.vendorcentral.in"
        );
        assert_eq!(Account::parse("VENDOR"), Some(Account::Vendor));
        assert_eq!(Account::parse("buyer"), None);
    }

    #[test]
    fn amazon_hosts_and_regions() {
        for (host, region) in [
            ("sellercentral.amazon.com", Some(Region::Na)),
            ("sellercentral-europe.amazon.com", Some(Region::Eu)),
            ("vendorcentral.amazon.me", Some(Region::Eu)),
            ("www.vendorcentral.in", Some(Region::Eu)),
            ("amazon.co.jp", Some(Region::Fe)),
            ("www.amazon.de", Some(Region::Eu)),
            ("www.amazon.com", Some(Region::Na)),
            ("evil.amazon.com", None),
            ("amazon.evil", None),
            ("sellercentral.amazon.com.evil.example.com", None),
            ("www.www.amazon.com", None),
            ("amazon.com.", None),
        ] {
            assert_eq!(region_of_amazon_host(host), region, "{host}");
        }
        assert_eq!(Region::parse("eu"), Some(Region::Eu));
        assert_eq!(Region::parse("EU"), None);
    }
}
