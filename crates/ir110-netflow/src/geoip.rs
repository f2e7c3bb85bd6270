//! Destination country from a MaxMind-format database the user supplies (`--geoip DB.mmdb`).
//!
//! Nothing is downloaded and no database is bundled: GeoLite2's licence forbids redistribution,
//! and a responder may prefer DB-IP Lite (CC BY 4.0) or IP2Location LITE in MMDB form. Both the
//! GeoIP2 layout (`country.iso_code`) and the flat `country_code` layout of community country
//! databases are read.

use std::net::IpAddr;
use std::path::Path;

use serde::Deserialize;

use crate::NetError;

#[derive(Deserialize)]
struct CountryRecord<'a> {
    #[serde(borrow)]
    iso_code: Option<&'a str>,
}

#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow)]
    country: Option<CountryRecord<'a>>,
    #[serde(borrow)]
    registered_country: Option<CountryRecord<'a>>,
    #[serde(borrow)]
    country_code: Option<&'a str>,
}

/// An opened country database.
pub struct GeoIp {
    reader: maxminddb::Reader<Vec<u8>>,
    description: String,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoIp")
            .field("description", &self.description)
            .finish()
    }
}

impl GeoIp {
    /// Opens (reads into memory) a MaxMind DB file. The file is only read.
    pub fn open(path: &Path) -> Result<GeoIp, NetError> {
        let reader = maxminddb::Reader::open_readfile(path).map_err(|e| NetError::GeoIp {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
        Ok(Self::describe(reader))
    }

    /// Reads a database from bytes already in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<GeoIp, NetError> {
        let reader = maxminddb::Reader::from_source(bytes).map_err(|e| NetError::GeoIp {
            path: "<memory>".into(),
            detail: e.to_string(),
        })?;
        Ok(Self::describe(reader))
    }

    fn describe(reader: maxminddb::Reader<Vec<u8>>) -> GeoIp {
        // The build date goes into reports: over a year, address assignments move.
        let built = chrono::DateTime::from_timestamp(reader.metadata.build_epoch as i64, 0)
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        let description = format!("{} ({built})", reader.metadata.database_type);
        GeoIp {
            reader,
            description,
        }
    }

    /// `database_type (build date)`, for citing the snapshot used.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The ISO 3166 country code of `ip`, if the database knows it.
    pub fn country(&self, ip: IpAddr) -> Option<String> {
        let rec: Record<'_> = self.reader.lookup(ip).ok().flatten()?;
        rec.country
            .and_then(|c| c.iso_code)
            .or(rec.country_code)
            .or(rec.registered_country.and_then(|c| c.iso_code))
            .map(str::to_owned)
    }
}
