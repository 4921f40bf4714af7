//! Session variables: what `SET` / `SHOW` / `RESET` see, with PostgreSQL's defaults.

use std::sync::Arc;

use crate::catalog::SERVER_VERSION;
use crate::sql::plan::Settings;

/// Variables every session starts with, and whether each is reported to the client in a
/// ParameterStatus message.
const DEFAULTS: &[(&str, &str, bool)] = &[
    ("application_name", "", true),
    ("client_encoding", "UTF8", true),
    ("client_min_messages", "notice", false),
    ("datestyle", "ISO, MDY", true),
    ("default_table_access_method", "heap", false),
    ("default_transaction_read_only", "off", false),
    ("idle_in_transaction_session_timeout", "0", false),
    // Freshet serves every transaction strict serializable; clients know the levels
    // PostgreSQL names, of which `serializable` is the one that holds.
    ("default_transaction_isolation", "serializable", true),
    ("extra_float_digits", "1", false),
    ("integer_datetimes", "on", true),
    ("intervalstyle", "postgres", true),
    ("is_superuser", "off", true),
    ("lc_collate", "C", false),
    ("lc_ctype", "C", false),
    ("lock_timeout", "0", false),
    ("max_identifier_length", "63", false),
    ("search_path", "public", false),
    ("server_encoding", "UTF8", true),
    ("server_version", SERVER_VERSION, true),
    ("server_version_num", "150000", false),
    ("standard_conforming_strings", "on", true),
    ("statement_timeout", "0", false),
    ("timezone", "UTC", true),
    ("transaction_isolation", "serializable", false),
];

/// The names PostgreSQL reports these variables under (ParameterStatus is case-sensitive).
fn display_name(name: &str) -> &str {
    match name {
        "datestyle" => "DateStyle",
        "intervalstyle" => "IntervalStyle",
        "timezone" => "TimeZone",
        other => other,
    }
}

#[derive(Clone, Debug)]
pub struct SessionVars {
    /// Shared with the statements being planned (`SessionInfo::settings`); copied on write.
    values: Settings,
}

impl Default for SessionVars {
    fn default() -> Self {
        SessionVars {
            values: Arc::new(
                DEFAULTS
                    .iter()
                    .map(|(n, v, _)| (n.to_string(), v.to_string()))
                    .collect(),
            ),
        }
    }
}

impl SessionVars {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(&name.to_lowercase()).map(String::as_str)
    }

    /// Sets a variable; `None` resets it to its default. Unknown names are accepted as
    /// PostgreSQL accepts custom (dotted) ones, so that drivers' settings never fail.
    pub fn set(&mut self, name: &str, value: Option<&str>) -> Result<(), String> {
        let name = name.to_lowercase();
        let default = DEFAULTS
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, v, _)| *v);
        let value = match value {
            Some(v) => v.to_string(),
            None => default.unwrap_or("").to_string(),
        };
        match name.as_str() {
            "server_version" | "server_version_num" | "server_encoding" | "integer_datetimes"
            | "is_superuser" => {
                return Err(format!("parameter \"{name}\" cannot be changed"));
            }
            "client_encoding"
                if !value.eq_ignore_ascii_case("utf8")
                    && !value.eq_ignore_ascii_case("utf-8")
                    && !value.eq_ignore_ascii_case("unicode") =>
            {
                return Err(format!(
                    "client_encoding {value} is not supported: only UTF8"
                ));
            }
            "timezone"
                if !matches!(
                    value.to_uppercase().as_str(),
                    "UTC" | "GMT" | "ETC/UTC" | "Z" | "+00:00" | "0"
                ) =>
            {
                return Err(format!("time zone \"{value}\" is not supported: only UTC"));
            }
            _ => {}
        }
        Arc::make_mut(&mut self.values).insert(name, value);
        Ok(())
    }

    /// The ParameterStatus pairs for the startup sequence.
    pub fn startup_parameters(&self) -> Vec<(String, String)> {
        DEFAULTS
            .iter()
            .filter(|(_, _, report)| *report)
            .map(|(n, _, _)| {
                (
                    display_name(n).to_string(),
                    self.values.get(*n).cloned().unwrap_or_default(),
                )
            })
            .collect()
    }

    /// Every variable, shared, for planning.
    pub fn settings(&self) -> Settings {
        Arc::clone(&self.values)
    }

    /// Every variable, for `SHOW ALL`.
    pub fn all(&self) -> impl Iterator<Item = (&String, &String)> {
        self.values.iter()
    }
}
