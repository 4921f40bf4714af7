//! bytea text encodings for `encode` / `decode`: `hex`, `base64` (as PostgreSQL writes it,
//! with a newline every 76 characters, and reads it, ignoring whitespace) and `escape`.

use crate::expr::EvalError;
use base64::Engine;

fn unknown(format: &str) -> EvalError {
    EvalError::InvalidParameter {
        message: format!("unrecognized encoding: \"{format}\""),
    }
}

pub fn encode(data: &[u8], format: &str) -> Result<String, EvalError> {
    match format.to_ascii_lowercase().as_str() {
        "hex" => Ok(hex::encode(data)),
        "base64" => {
            let text = base64::engine::general_purpose::STANDARD.encode(data);
            let lines: Vec<&str> = text
                .as_bytes()
                .chunks(76)
                .map(|c| std::str::from_utf8(c).unwrap_or_default())
                .collect();
            Ok(lines.join("\n"))
        }
        "escape" => {
            let mut out = String::with_capacity(data.len());
            for &b in data {
                match b {
                    b'\\' => out.push_str("\\\\"),
                    0 | 0x80..=0xff => out.push_str(&format!("\\{b:03o}")),
                    _ => out.push(b as char),
                }
            }
            Ok(out)
        }
        other => Err(unknown(other)),
    }
}

pub fn decode(text: &str, format: &str) -> Result<Vec<u8>, EvalError> {
    let invalid = |what: &str| EvalError::InvalidParameter {
        message: format!("invalid {what} data"),
    };
    match format.to_ascii_lowercase().as_str() {
        "hex" => hex::decode(text).map_err(|_| {
            // PostgreSQL's messages: the first bad digit, else the odd count.
            match text.chars().find(|c| !c.is_ascii_hexdigit()) {
                Some(c) => EvalError::InvalidParameter {
                    message: format!("invalid hexadecimal digit: \"{c}\""),
                },
                None => EvalError::InvalidParameter {
                    message: "invalid hexadecimal data: odd number of digits".into(),
                },
            }
        }),
        "base64" => {
            let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|_| invalid("base64"))
        }
        "escape" => {
            let bytes = text.as_bytes();
            let mut out = Vec::with_capacity(bytes.len());
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] != b'\\' {
                    out.push(bytes[i]);
                    i += 1;
                } else if bytes.get(i + 1) == Some(&b'\\') {
                    out.push(b'\\');
                    i += 2;
                } else {
                    let octal = text
                        .get(i + 1..i + 4)
                        .and_then(|o| u8::from_str_radix(o, 8).ok())
                        .ok_or_else(|| invalid("escape"))?;
                    out.push(octal);
                    i += 4;
                }
            }
            Ok(out)
        }
        other => Err(unknown(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_round_trip() {
        let data = b"a\\b\x00\xff";
        for format in ["hex", "base64", "escape"] {
            assert_eq!(
                decode(&encode(data, format).unwrap(), format).unwrap(),
                data
            );
        }
        assert_eq!(encode(b"ab", "hex").unwrap(), "6162");
    }
}
