//! Evaluation and result types of `Func`.

use super::arith::{self, Op};
use super::string::{int, text};
use super::{Func, NamedFunc, cast, compare, string, temporal};
use crate::expr::EvalError;
use crate::repr::{ColumnType, Datum, Jsonb, ScalarType};
use rust_decimal::prelude::*;
use std::cmp::Ordering;

pub(super) fn eval(func: &Func, args: &[Datum]) -> Result<Datum, EvalError> {
    let arg = |i: usize| {
        args.get(i)
            .ok_or_else(|| EvalError::Internal(format!("{func:?} is missing argument {i}")))
    };
    Ok(match func {
        Func::Eq => Datum::Bool(compare::sql_order(arg(0)?, arg(1)?) == Ordering::Equal),
        Func::NotEq => Datum::Bool(compare::sql_order(arg(0)?, arg(1)?) != Ordering::Equal),
        Func::Lt => Datum::Bool(compare::sql_order(arg(0)?, arg(1)?) == Ordering::Less),
        Func::Lte => Datum::Bool(compare::sql_order(arg(0)?, arg(1)?) != Ordering::Greater),
        Func::Gt => Datum::Bool(compare::sql_order(arg(0)?, arg(1)?) == Ordering::Greater),
        Func::Gte => Datum::Bool(compare::sql_order(arg(0)?, arg(1)?) != Ordering::Less),
        Func::IsDistinctFrom | Func::IsNotDistinctFrom => {
            let (a, b) = (arg(0)?, arg(1)?);
            let same = match (a.is_null(), b.is_null()) {
                (true, true) => true,
                (false, false) => compare::sql_order(a, b) == Ordering::Equal,
                _ => false,
            };
            Datum::Bool(same == matches!(func, Func::IsNotDistinctFrom))
        }
        Func::Not => match arg(0)? {
            Datum::Bool(b) => Datum::Bool(!b),
            other => return Err(EvalError::Internal(format!("NOT of {other:?}"))),
        },
        Func::IsNull => Datum::Bool(arg(0)?.is_null()),
        Func::IsNotNull => Datum::Bool(!arg(0)?.is_null()),
        Func::IsTrue => Datum::Bool(*arg(0)? == Datum::Bool(true)),
        Func::IsFalse => Datum::Bool(*arg(0)? == Datum::Bool(false)),
        Func::Add => match temporal::add(arg(0)?, arg(1)?, 1) {
            Some(r) => r?,
            None => arith::numeric_op(Op::Add, arg(0)?, arg(1)?)?,
        },
        Func::Sub => match temporal::add(arg(0)?, arg(1)?, -1) {
            Some(r) => r?,
            None => arith::numeric_op(Op::Sub, arg(0)?, arg(1)?)?,
        },
        Func::Mul => match temporal::scale(arg(0)?, arg(1)?, false) {
            Some(r) => r?,
            None => arith::numeric_op(Op::Mul, arg(0)?, arg(1)?)?,
        },
        Func::Div => match temporal::scale(arg(0)?, arg(1)?, true) {
            Some(r) => r?,
            None => arith::numeric_op(Op::Div, arg(0)?, arg(1)?)?,
        },
        Func::Mod => arith::numeric_op(Op::Mod, arg(0)?, arg(1)?)?,
        Func::Neg => arith::negate(arg(0)?)?,
        Func::Cast(to) => cast::cast(arg(0)?, to)?,
        Func::Concat => Datum::String(format!("{}{}", text(arg(0)?)?, text(arg(1)?)?)),
        Func::MakeRecord | Func::MakeArray => Datum::Array(args.to_vec()),
        Func::ArrayQuantified { compare, all } => match arg(1)? {
            Datum::Null => Datum::Null,
            Datum::Array(elements) => {
                let x = arg(0)?;
                three_valued(
                    !*all,
                    elements
                        .iter()
                        .map(|element| compare.eval(&[x.clone(), element.clone()])),
                )?
            }
            other => return Err(EvalError::Internal(format!("ANY over {other:?}"))),
        },
        Func::ArrayIndex => match (arg(0)?, arg(1)?) {
            (Datum::Array(elements), index) => {
                let index = match index {
                    Datum::Int16(i) => i64::from(*i),
                    Datum::Int32(i) => i64::from(*i),
                    Datum::Int64(i) => *i,
                    other => {
                        return Err(EvalError::Internal(format!("array index {other:?}")));
                    }
                };
                usize::try_from(index - 1)
                    .ok()
                    .and_then(|i| elements.get(i))
                    .cloned()
                    .unwrap_or(Datum::Null)
            }
            (other, _) => return Err(EvalError::Internal(format!("subscript of {other:?}"))),
        },
        Func::GenRandomUuid => Datum::Uuid(uuid::Uuid::new_v4()),
        Func::MzNow => {
            return Err(EvalError::Internal(
                "mz_now() evaluated outside a temporal filter".into(),
            ));
        }
        Func::Like { case_insensitive } => Datum::Bool(string::like(
            text(arg(0)?)?,
            text(arg(1)?)?,
            *case_insensitive,
        )),
        Func::RegexMatch { case_insensitive } => {
            let s = text(arg(0)?)?;
            Datum::Bool(string::with_regex(
                text(arg(1)?)?,
                *case_insensitive,
                |re| re.is_match(s),
            )?)
        }
        Func::Greatest | Func::Least => {
            let mut best: Option<&Datum> = None;
            for a in args.iter().filter(|a| !a.is_null()) {
                best = match best {
                    None => Some(a),
                    Some(b) => {
                        let o = compare::sql_order(a, b);
                        let better = if matches!(func, Func::Greatest) {
                            o == Ordering::Greater
                        } else {
                            o == Ordering::Less
                        };
                        Some(if better { a } else { b })
                    }
                };
            }
            best.cloned().unwrap_or(Datum::Null)
        }
        Func::Named(named) => eval_named(*named, args)?,
    })
}

fn float_arg(d: &Datum) -> Result<f64, EvalError> {
    arith::to_f64(d).ok_or_else(|| EvalError::Internal(format!("expected a number, got {d:?}")))
}

/// Rounds numbers of any numeric type with `f` on floats and `g` on numerics.
fn round_like(
    d: &Datum,
    f: fn(f64) -> f64,
    strategy: RoundingStrategy,
) -> Result<Datum, EvalError> {
    Ok(match d {
        Datum::Float32(v) => Datum::f32(f(v.0 as f64) as f32),
        Datum::Float64(v) => Datum::f64(f(v.0)),
        Datum::Numeric(n) => Datum::Numeric(n.round_dp_with_strategy(0, strategy)),
        i @ (Datum::Int16(_) | Datum::Int32(_) | Datum::Int64(_)) => i.clone(),
        other => return Err(EvalError::Internal(format!("rounding {other:?}"))),
    })
}

fn math(value: f64, name: &str, ok: bool) -> Result<Datum, EvalError> {
    if !ok {
        return Err(EvalError::InvalidParameter {
            message: match name {
                "sqrt" => "cannot take square root of a negative number".into(),
                "ln" | "log" => {
                    if value == 0.0 {
                        "cannot take logarithm of zero".into()
                    } else {
                        "cannot take logarithm of a negative number".into()
                    }
                }
                _ => format!("invalid argument for {name}"),
            },
        });
    }
    Ok(Datum::f64(value))
}

fn jsonb_arg(d: &Datum) -> Result<serde_json::Value, EvalError> {
    match d {
        Datum::Jsonb(j) => Ok(j.to_value()),
        other => Err(EvalError::Internal(format!(
            "expected jsonb, got {other:?}"
        ))),
    }
}

fn json_step<'a>(v: &'a serde_json::Value, key: &Datum) -> Option<&'a serde_json::Value> {
    match (v, key) {
        (serde_json::Value::Object(m), Datum::String(k)) => m.get(k),
        (serde_json::Value::Array(a), Datum::String(k)) => {
            k.parse::<i64>().ok().and_then(|i| array_index(a, i))
        }
        (serde_json::Value::Array(a), k) => int(k).ok().and_then(|i| array_index(a, i)),
        _ => None,
    }
}

fn array_index(a: &[serde_json::Value], i: i64) -> Option<&serde_json::Value> {
    let index = if i < 0 { a.len() as i64 + i } else { i };
    if index < 0 {
        None
    } else {
        a.get(index as usize)
    }
}

fn json_text(v: &serde_json::Value) -> Datum {
    match v {
        serde_json::Value::Null => Datum::Null,
        serde_json::Value::String(s) => Datum::String(s.clone()),
        other => Datum::String(Jsonb::from_value(other).as_str().to_string()),
    }
}

fn eval_named(named: NamedFunc, args: &[Datum]) -> Result<Datum, EvalError> {
    use NamedFunc::*;
    let arg = |i: usize| {
        args.get(i)
            .ok_or_else(|| EvalError::Internal(format!("{named:?} is missing argument {i}")))
    };
    Ok(match named {
        // The C locale: only ASCII letters change case.
        Lower => Datum::String(text(arg(0)?)?.to_ascii_lowercase()),
        Upper => Datum::String(text(arg(0)?)?.to_ascii_uppercase()),
        CharLength => Datum::Int32(text(arg(0)?)?.chars().count() as i32),
        OctetLength => match arg(0)? {
            Datum::Bytes(b) => Datum::Int32(b.len() as i32),
            d => Datum::Int32(text(d)?.len() as i32),
        },
        Substring => {
            let count = match args.get(2) {
                Some(c) => Some(int(c)?),
                None => None,
            };
            Datum::String(string::substring(text(arg(0)?)?, int(arg(1)?)?, count)?)
        }
        Strpos => Datum::Int32(string::strpos(text(arg(0)?)?, text(arg(1)?)?) as i32),
        Btrim | Ltrim | Rtrim => {
            let chars = match args.get(1) {
                Some(c) => text(c)?.to_string(),
                None => " ".to_string(),
            };
            Datum::String(string::trim(
                text(arg(0)?)?,
                &chars,
                named != Rtrim,
                named != Ltrim,
            ))
        }
        Replace => {
            let from = text(arg(1)?)?;
            let s = text(arg(0)?)?;
            Datum::String(if from.is_empty() {
                s.to_string()
            } else {
                s.replace(from, text(arg(2)?)?)
            })
        }
        ConcatAll => Datum::String(
            args.iter()
                .filter(|a| !a.is_null())
                .map(|a| text(a).map(str::to_string))
                .collect::<Result<Vec<_>, _>>()?
                .concat(),
        ),
        ConcatWs => {
            let sep = match arg(0)? {
                Datum::Null => return Ok(Datum::Null),
                d => text(d)?.to_string(),
            };
            Datum::String(
                args[1..]
                    .iter()
                    .filter(|a| !a.is_null())
                    .map(|a| text(a).map(str::to_string))
                    .collect::<Result<Vec<_>, _>>()?
                    .join(&sep),
            )
        }
        Left => Datum::String(string::left(text(arg(0)?)?, int(arg(1)?)?)),
        Right => Datum::String(string::right(text(arg(0)?)?, int(arg(1)?)?)),
        Lpad | Rpad => {
            let fill = match args.get(2) {
                Some(f) => text(f)?.to_string(),
                None => " ".into(),
            };
            Datum::String(string::pad(
                text(arg(0)?)?,
                int(arg(1)?)?,
                &fill,
                named == Lpad,
            ))
        }
        Repeat => {
            let n = int(arg(1)?)?.max(0) as usize;
            let s = text(arg(0)?)?;
            if s.len().saturating_mul(n) > (1 << 30) {
                return Err(EvalError::InvalidParameter {
                    message: "requested length too large".into(),
                });
            }
            Datum::String(s.repeat(n))
        }
        Reverse => Datum::String(text(arg(0)?)?.chars().rev().collect()),
        SplitPart => Datum::String(string::split_part(
            text(arg(0)?)?,
            text(arg(1)?)?,
            int(arg(2)?)?,
        )?),
        StartsWith => Datum::Bool(text(arg(0)?)?.starts_with(text(arg(1)?)?)),
        Initcap => Datum::String(string::initcap(text(arg(0)?)?)),
        Ascii => Datum::Int32(text(arg(0)?)?.chars().next().map(|c| c as i32).unwrap_or(0)),
        Chr => {
            let code = int(arg(0)?)?;
            let c = u32::try_from(code)
                .ok()
                .and_then(char::from_u32)
                .filter(|c| *c != '\0')
                .ok_or_else(|| EvalError::InvalidParameter {
                    message: format!("requested character not valid: {code}"),
                })?;
            Datum::String(c.to_string())
        }
        RegexpReplace => {
            let s = text(arg(0)?)?;
            let replacement = text(arg(2)?)?.replace("\\", "$");
            let flags = match args.get(3) {
                Some(f) => text(f)?.to_string(),
                None => String::new(),
            };
            let global = flags.contains('g');
            string::with_regex(text(arg(1)?)?, flags.contains('i'), |re| {
                Datum::String(if global {
                    re.replace_all(s, replacement.as_str()).into_owned()
                } else {
                    re.replace(s, replacement.as_str()).into_owned()
                })
            })?
        }
        Abs => match arg(0)? {
            Datum::Int16(v) => Datum::Int16(
                v.checked_abs()
                    .ok_or_else(|| EvalError::NumericOutOfRange("smallint out of range".into()))?,
            ),
            Datum::Int32(v) => Datum::Int32(
                v.checked_abs()
                    .ok_or_else(|| EvalError::NumericOutOfRange("integer out of range".into()))?,
            ),
            Datum::Int64(v) => Datum::Int64(
                v.checked_abs()
                    .ok_or_else(|| EvalError::NumericOutOfRange("bigint out of range".into()))?,
            ),
            Datum::Float32(v) => Datum::f32(v.0.abs()),
            Datum::Float64(v) => Datum::f64(v.0.abs()),
            Datum::Numeric(n) => Datum::Numeric(n.abs()),
            other => return Err(EvalError::Internal(format!("abs of {other:?}"))),
        },
        Ceil => {
            round_like(arg(0)?, f64::ceil, RoundingStrategy::AwayFromZero).and_then(|d| {
                match (d, arg(0)?) {
                    (Datum::Numeric(_), Datum::Numeric(n)) => Ok(Datum::Numeric(n.ceil())),
                    (d, _) => Ok(d),
                }
            })?
        }
        Floor => {
            round_like(arg(0)?, f64::floor, RoundingStrategy::ToZero).and_then(|d| {
                match (d, arg(0)?) {
                    (Datum::Numeric(_), Datum::Numeric(n)) => Ok(Datum::Numeric(n.floor())),
                    (d, _) => Ok(d),
                }
            })?
        }
        Round => match args.get(1) {
            None => round_like(
                arg(0)?,
                f64::round_ties_even,
                RoundingStrategy::MidpointAwayFromZero,
            )?,
            Some(places) => match arg(0)? {
                Datum::Numeric(n) => {
                    let places = int(places)?;
                    if places >= 0 {
                        let mut r = n.round_dp_with_strategy(
                            places.min(28) as u32,
                            RoundingStrategy::MidpointAwayFromZero,
                        );
                        r.rescale(places.min(28) as u32);
                        Datum::Numeric(r)
                    } else {
                        let factor = Decimal::from(10i64.pow((-places).min(18) as u32));
                        Datum::Numeric(
                            (n / factor)
                                .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
                                * factor,
                        )
                    }
                }
                other => return Err(EvalError::Internal(format!("round of {other:?}"))),
            },
        },
        Trunc => match (arg(0)?, args.get(1)) {
            (Datum::Numeric(n), Some(places)) => {
                let places = int(places)?.clamp(0, 28) as u32;
                let mut r = n.round_dp_with_strategy(places, RoundingStrategy::ToZero);
                r.rescale(places);
                Datum::Numeric(r)
            }
            (d, _) => round_like(d, f64::trunc, RoundingStrategy::ToZero)?,
        },
        Sqrt => {
            let v = float_arg(arg(0)?)?;
            math(v.sqrt(), "sqrt", v >= 0.0)?
        }
        NumericSqrt => match arg(0)? {
            Datum::Numeric(n) => {
                use rust_decimal::MathematicalOps;
                let root = n.sqrt().ok_or_else(|| EvalError::InvalidParameter {
                    message: "cannot take square root of a negative number".into(),
                })?;
                let mut r =
                    root.round_dp_with_strategy(n.scale(), RoundingStrategy::MidpointAwayFromZero);
                r.rescale(n.scale());
                Datum::Numeric(r)
            }
            other => return Err(EvalError::Internal(format!("numeric sqrt of {other:?}"))),
        },
        Cbrt => Datum::f64(float_arg(arg(0)?)?.cbrt()),
        Power => {
            let (b, e) = (float_arg(arg(0)?)?, float_arg(arg(1)?)?);
            if b == 0.0 && e < 0.0 {
                return Err(EvalError::InvalidParameter {
                    message: "zero raised to a negative power is undefined".into(),
                });
            }
            if b < 0.0 && e.fract() != 0.0 {
                return Err(EvalError::InvalidParameter {
                    message:
                        "a negative number raised to a non-integer power yields a complex result"
                            .into(),
                });
            }
            let r = b.powf(e);
            if r.is_infinite() {
                return Err(EvalError::NumericOutOfRange(
                    "value out of range: overflow".into(),
                ));
            }
            Datum::f64(r)
        }
        Exp => {
            let r = float_arg(arg(0)?)?.exp();
            if r.is_infinite() {
                return Err(EvalError::NumericOutOfRange(
                    "value out of range: overflow".into(),
                ));
            }
            Datum::f64(r)
        }
        Ln => {
            let v = float_arg(arg(0)?)?;
            math(v.ln(), "ln", v > 0.0)?
        }
        Log10 => {
            let v = float_arg(arg(0)?)?;
            math(v.log10(), "log", v > 0.0)?
        }
        Sign => match arg(0)? {
            Datum::Numeric(n) => Datum::Numeric(n.signum()),
            d => Datum::f64(float_arg(d)?.signum()).clone_zero_sign(),
        },
        Pi => Datum::f64(std::f64::consts::PI),
        DateTrunc => temporal::date_trunc(arg(0)?, arg(1)?)?,
        DateBin => temporal::date_bin(arg(0)?, arg(1)?, arg(2)?)?,
        DatePart => temporal::date_part(arg(0)?, arg(1)?)?,
        Extract => temporal::extract(arg(0)?, arg(1)?)?,
        ToTimestamp => temporal::to_timestamp(arg(0)?)?,
        MakeDate => temporal::make_date(arg(0)?, arg(1)?, arg(2)?)?,
        Age => temporal::age(arg(0)?, arg(1)?)?,
        ToChar => temporal::to_char(arg(0)?, text(arg(1)?)?)?,
        JsonbTypeof => Datum::String(
            match jsonb_arg(arg(0)?)? {
                serde_json::Value::Null => "null",
                serde_json::Value::Bool(_) => "boolean",
                serde_json::Value::Number(_) => "number",
                serde_json::Value::String(_) => "string",
                serde_json::Value::Array(_) => "array",
                serde_json::Value::Object(_) => "object",
            }
            .into(),
        ),
        JsonbArrayLength => match jsonb_arg(arg(0)?)? {
            serde_json::Value::Array(a) => Datum::Int32(a.len() as i32),
            _ => {
                return Err(EvalError::InvalidParameter {
                    message: "cannot get array length of a non-array".into(),
                });
            }
        },
        JsonbGet | JsonbGetText => {
            let v = jsonb_arg(arg(0)?)?;
            match json_step(&v, arg(1)?) {
                None => Datum::Null,
                Some(x) if named == JsonbGet => Datum::Jsonb(Jsonb::from_value(x)),
                Some(x) => json_text(x),
            }
        }
        JsonbGetPath | JsonbGetPathText => {
            let v = jsonb_arg(arg(0)?)?;
            let Datum::Array(path) = arg(1)? else {
                return Err(EvalError::Internal("json path".into()));
            };
            let mut cur = Some(&v);
            for key in path {
                cur = cur.and_then(|c| json_step(c, key));
            }
            match cur {
                None => Datum::Null,
                Some(x) if named == JsonbGetPath => Datum::Jsonb(Jsonb::from_value(x)),
                Some(x) => json_text(x),
            }
        }
        JsonbContains => Datum::Bool(json_contains(&jsonb_arg(arg(0)?)?, &jsonb_arg(arg(1)?)?)),
        JsonbHasKey => Datum::Bool(json_has_key(&jsonb_arg(arg(0)?)?, text(arg(1)?)?)),
        JsonbHasAnyKey | JsonbHasAllKeys => {
            let v = jsonb_arg(arg(0)?)?;
            let Datum::Array(keys) = arg(1)? else {
                return Err(EvalError::Internal("jsonb key list is not an array".into()));
            };
            // NULL keys are skipped, as in PostgreSQL.
            let mut found = keys.iter().filter_map(|k| match k {
                Datum::String(k) => Some(json_has_key(&v, k)),
                _ => None,
            });
            Datum::Bool(if named == JsonbHasAnyKey {
                found.any(|f| f)
            } else {
                found.all(|f| f)
            })
        }
        RegexpMatch => {
            let s = text(arg(0)?)?;
            let flags = match args.get(2) {
                Some(f) => text(f)?.to_string(),
                None => String::new(),
            };
            if flags.contains('g') {
                return Err(EvalError::FeatureNotSupported(
                    "regexp_match() does not support the \"global\" option".into(),
                ));
            }
            string::with_regex(text(arg(1)?)?, flags.contains('i'), |re| {
                match re.captures(s) {
                    None => Datum::Null,
                    Some(c) if c.len() == 1 => Datum::Array(vec![Datum::String(c[0].to_string())]),
                    Some(c) => Datum::Array(
                        c.iter()
                            .skip(1)
                            .map(|g| g.map_or(Datum::Null, |m| Datum::String(m.as_str().into())))
                            .collect(),
                    ),
                }
            })?
        }
        ArrayToString => {
            let Datum::Array(items) = arg(0)? else {
                return Err(EvalError::Internal("array_to_string of a non-array".into()));
            };
            let delimiter = text(arg(1)?)?;
            let null_as = match args.get(2) {
                Some(Datum::Null) | None => None,
                Some(d) => Some(text(d)?.to_string()),
            };
            let mut parts = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Datum::Null => parts.extend(null_as.clone()),
                    // The output form, as PostgreSQL writes elements (a cast says `true`).
                    Datum::Bool(b) => parts.push(if *b { "t" } else { "f" }.into()),
                    other => match cast::cast(other, &ScalarType::String)? {
                        Datum::String(s) => parts.push(s),
                        _ => return Err(EvalError::Internal("element as text".into())),
                    },
                }
            }
            Datum::String(parts.join(delimiter))
        }
        StringToArray => {
            let s = text(arg(0)?)?;
            let null_as = match args.get(2) {
                Some(Datum::Null) | None => None,
                Some(d) => Some(text(d)?.to_string()),
            };
            let element = |part: &str| match &null_as {
                Some(n) if n == part => Datum::Null,
                _ => Datum::String(part.to_string()),
            };
            // (Strict: a NULL delimiter gives NULL here, where PostgreSQL splits characters.)
            let delimiter = text(arg(1)?)?;
            let parts: Vec<Datum> = if s.is_empty() {
                vec![]
            } else if delimiter.is_empty() {
                vec![element(s)]
            } else {
                s.split(delimiter).map(element).collect()
            };
            Datum::Array(parts)
        }
        Md5 => {
            let digest = match arg(0)? {
                Datum::Bytes(b) => md5::compute(b),
                d => md5::compute(text(d)?.as_bytes()),
            };
            Datum::String(format!("{digest:x}"))
        }
        Sha256 => {
            use sha2::Digest;
            Datum::Bytes(sha2::Sha256::digest(bytes(arg(0)?)?).to_vec())
        }
        Encode => Datum::String(super::bytea::encode(bytes(arg(0)?)?, text(arg(1)?)?)?),
        Decode => Datum::Bytes(super::bytea::decode(text(arg(0)?)?, text(arg(1)?)?)?),
        ArrayCat => match (arg(0)?, arg(1)?) {
            (Datum::Null, Datum::Null) => Datum::Null,
            (Datum::Array(a), Datum::Null) | (Datum::Null, Datum::Array(a)) => {
                Datum::Array(a.clone())
            }
            (Datum::Array(a), Datum::Array(b)) => {
                Datum::Array(a.iter().chain(b.iter()).cloned().collect())
            }
            (a, b) => {
                return Err(EvalError::Internal(format!(
                    "array_cat of non-arrays {a:?} and {b:?}"
                )));
            }
        },
        QuoteIdent => Datum::String(string::quote_ident(text(arg(0)?)?)),
        QuoteLiteral => Datum::String(string::quote_literal(text(arg(0)?)?)),
        SizePretty => Datum::String(match arg(0)? {
            Datum::Int16(v) => string::size_pretty(i128::from(*v)),
            Datum::Int32(v) => string::size_pretty(i128::from(*v)),
            Datum::Int64(v) => string::size_pretty(i128::from(*v)),
            Datum::Numeric(n) if n.fract().is_zero() => match n.to_i128() {
                Some(v) => string::size_pretty(v),
                None => return Err(EvalError::NumericOutOfRange("numeric out of range".into())),
            },
            // A fraction of a byte: PostgreSQL prints it as it is.
            Datum::Numeric(n) => format!("{n} bytes"),
            other => {
                return Err(EvalError::Internal(format!("pg_size_pretty of {other:?}")));
            }
        }),
        BytesConcat => {
            let mut out = bytes(arg(0)?)?.to_vec();
            out.extend_from_slice(bytes(arg(1)?)?);
            Datum::Bytes(out)
        }
        ArrayPosition => {
            let Datum::Array(items) = arg(0)? else {
                return Err(EvalError::Internal("array_position of a non-array".into()));
            };
            let wanted = arg(1)?;
            items
                .iter()
                .position(|d| compare::sql_order(d, wanted) == Ordering::Equal && !d.is_null())
                .map_or(Datum::Null, |p| Datum::Int32(p as i32 + 1))
        }
        JsonbBuildObject => {
            if !args.len().is_multiple_of(2) {
                return Err(EvalError::InvalidParameter {
                    message: "argument list must have even number of elements".into(),
                });
            }
            let mut map = serde_json::Map::new();
            for pair in args.chunks(2) {
                let key = match &pair[0] {
                    Datum::Null => {
                        return Err(EvalError::InvalidParameter {
                            message: "argument 1: key must not be null".into(),
                        });
                    }
                    Datum::String(s) => s.clone(),
                    other => crate::repr::text::format_datum(other, &ScalarType::String),
                };
                map.insert(key, cast::json_of(&pair[1]));
            }
            Datum::Jsonb(Jsonb::from_value(&serde_json::Value::Object(map)))
        }
        JsonbBuildArray => Datum::Jsonb(Jsonb::from_value(&serde_json::Value::Array(
            args.iter().map(cast::json_of).collect(),
        ))),
        ArrayLength => match (arg(0)?, args.get(1)) {
            (Datum::Array(items), Some(dim)) if int(dim)? == 1 && !items.is_empty() => {
                Datum::Int32(items.len() as i32)
            }
            _ => Datum::Null,
        },
    })
}

/// Three-valued OR (`decisive` TRUE) or AND (`decisive` FALSE) of booleans: `decisive` as
/// soon as one is, else NULL if one is NULL, else the other value (also for no values).
/// Stops at the first decisive value or error.
pub(super) fn three_valued(
    decisive: bool,
    values: impl IntoIterator<Item = Result<Datum, EvalError>>,
) -> Result<Datum, EvalError> {
    let mut null = false;
    for value in values {
        match value? {
            Datum::Bool(b) if b == decisive => return Ok(Datum::Bool(decisive)),
            Datum::Null => null = true,
            _ => {}
        }
    }
    Ok(if null {
        Datum::Null
    } else {
        Datum::Bool(!decisive)
    })
}

fn bytes(d: &Datum) -> Result<&[u8], EvalError> {
    match d {
        Datum::Bytes(b) => Ok(b),
        other => Err(EvalError::Internal(format!(
            "expected bytea, got {other:?}"
        ))),
    }
}

/// `jsonb ? key`: an object's key, or a string element of an array, or the string itself.
fn json_has_key(v: &serde_json::Value, key: &str) -> bool {
    match v {
        serde_json::Value::Object(m) => m.contains_key(key),
        serde_json::Value::Array(a) => a.iter().any(|x| x.as_str() == Some(key)),
        serde_json::Value::String(s) => s == key,
        _ => false,
    }
}

trait ZeroSign {
    fn clone_zero_sign(self) -> Datum;
}

impl ZeroSign for Datum {
    /// `sign(0.0)` is 0, not -0 or 1.
    fn clone_zero_sign(self) -> Datum {
        match self {
            Datum::Float64(v) if v.0 == 0.0 => Datum::f64(0.0),
            other => other,
        }
    }
}

fn json_contains(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => y
            .iter()
            .all(|(k, v)| x.get(k).is_some_and(|xv| json_contains(xv, v))),
        (Value::Array(x), Value::Array(y)) => {
            y.iter().all(|v| x.iter().any(|xv| json_contains(xv, v)))
        }
        (Value::Array(x), scalar) if !scalar.is_object() && !scalar.is_array() => {
            x.contains(scalar)
        }
        (x, y) => x == y,
    }
}

pub(super) fn output_type(func: &Func, args: &[ColumnType]) -> ColumnType {
    let nullable = args.iter().any(|a| a.nullable);
    let first = || {
        args.first()
            .map(|a| a.scalar_type.without_modifiers())
            .unwrap_or(ScalarType::Unknown)
    };
    let t = |s: ScalarType| ColumnType::new(s, nullable);
    match func {
        Func::Eq
        | Func::NotEq
        | Func::Lt
        | Func::Lte
        | Func::Gt
        | Func::Gte
        | Func::Not
        | Func::Like { .. }
        | Func::RegexMatch { .. } => t(ScalarType::Bool),
        Func::IsDistinctFrom
        | Func::IsNotDistinctFrom
        | Func::IsNull
        | Func::IsNotNull
        | Func::IsTrue
        | Func::IsFalse => ColumnType::new(ScalarType::Bool, false),
        Func::Add | Func::Sub | Func::Mul | Func::Div => {
            let l = first();
            let r = args
                .get(1)
                .map(|a| a.scalar_type.without_modifiers())
                .unwrap_or(ScalarType::Unknown);
            t(arithmetic_result(func, &l, &r))
        }
        Func::Mod | Func::Neg => t(first()),
        Func::Cast(to) => t(to.clone()),
        Func::Concat => t(ScalarType::String),
        Func::MzNow => ColumnType::new(ScalarType::TimestampTz, false),
        Func::GenRandomUuid => ColumnType::new(ScalarType::Uuid, false),
        // A record is held as an array of its fields; its type names the first field's, the
        // value an ordered aggregate (`array_agg(x ORDER BY k)`) collects.
        Func::MakeRecord => ColumnType::new(ScalarType::Array(Box::new(first())), false),
        Func::MakeArray => ColumnType::new(ScalarType::Array(Box::new(first())), false),
        Func::ArrayQuantified { .. } => ColumnType::new(ScalarType::Bool, true),
        Func::ArrayIndex => match args.first().map(|a| &a.scalar_type) {
            Some(ScalarType::Array(element)) => t((**element).clone()),
            _ => t(ScalarType::Unknown),
        },
        Func::Greatest | Func::Least => ColumnType::new(first(), args.iter().all(|a| a.nullable)),
        Func::Named(named) => named_output_type(*named, args, nullable),
    }
}

/// The result type of arithmetic on `l` and `r` (both already coerced).
pub fn arithmetic_result(func: &Func, l: &ScalarType, r: &ScalarType) -> ScalarType {
    use ScalarType::*;
    match (func, l, r) {
        (Func::Add | Func::Sub, Date, Int32) | (Func::Add, Int32, Date) => Date,
        (Func::Sub, Date, Date) => Int32,
        (Func::Add | Func::Sub, Date, Interval) | (Func::Add, Interval, Date) => Timestamp,
        (Func::Add | Func::Sub, Timestamp, Interval) | (Func::Add, Interval, Timestamp) => {
            Timestamp
        }
        (Func::Add | Func::Sub, TimestampTz, Interval) | (Func::Add, Interval, TimestampTz) => {
            TimestampTz
        }
        (Func::Sub, Timestamp, Timestamp)
        | (Func::Sub, TimestampTz, TimestampTz)
        | (Func::Sub, Time, Time) => Interval,
        (Func::Add | Func::Sub, Time, Interval) => Time,
        (_, Interval, _) | (_, _, Interval) => Interval,
        _ => l.clone(),
    }
}

fn named_output_type(named: NamedFunc, args: &[ColumnType], nullable: bool) -> ColumnType {
    use NamedFunc::*;
    let t = |s: ScalarType| ColumnType::new(s, nullable);
    let first = args
        .first()
        .map(|a| a.scalar_type.without_modifiers())
        .unwrap_or(ScalarType::Unknown);
    match named {
        Lower | Upper | Substring | Btrim | Ltrim | Rtrim | Replace | Left | Right | Lpad
        | Rpad | Repeat | Reverse | SplitPart | Initcap | Chr | RegexpReplace | JsonbTypeof
        | JsonbGetText | JsonbGetPathText | ToChar => t(ScalarType::String),
        ConcatAll => ColumnType::new(ScalarType::String, false),
        ConcatWs => ColumnType::new(ScalarType::String, args.first().is_some_and(|a| a.nullable)),
        CharLength | OctetLength | Strpos | Ascii | JsonbArrayLength => t(ScalarType::Int32),
        StartsWith | JsonbContains | JsonbHasKey | JsonbHasAnyKey | JsonbHasAllKeys => {
            t(ScalarType::Bool)
        }
        RegexpMatch | StringToArray => t(ScalarType::Array(Box::new(ScalarType::String))),
        ArrayToString | Md5 | Encode | QuoteIdent | QuoteLiteral | SizePretty => {
            t(ScalarType::String)
        }
        Sha256 | Decode | BytesConcat => t(ScalarType::Bytes),
        ArrayCat => ColumnType::new(first, args.iter().all(|a| a.nullable)),
        ArrayPosition => ColumnType::new(ScalarType::Int32, true),
        Abs | Ceil | Floor | Round | Trunc | NumericSqrt => t(first),
        Sign => t(match first {
            ScalarType::Numeric { .. } => ScalarType::Numeric { typmod: None },
            _ => ScalarType::Float64,
        }),
        Sqrt | Cbrt | Power | Exp | Ln | Log10 | Pi | DatePart => t(ScalarType::Float64),
        Extract => t(ScalarType::Numeric { typmod: None }),
        DateBin => t(args
            .get(1)
            .map(|a| a.scalar_type.clone())
            .unwrap_or(ScalarType::TimestampTz)),
        DateTrunc => t(match args.get(1).map(|a| &a.scalar_type) {
            Some(ScalarType::Timestamp) => ScalarType::Timestamp,
            Some(ScalarType::Interval) => ScalarType::Interval,
            _ => ScalarType::TimestampTz,
        }),
        ToTimestamp => t(ScalarType::TimestampTz),
        MakeDate => t(ScalarType::Date),
        Age => t(ScalarType::Interval),
        JsonbGet | JsonbGetPath => ColumnType::new(ScalarType::Jsonb, true),
        JsonbBuildObject | JsonbBuildArray => ColumnType::new(ScalarType::Jsonb, false),
        ArrayLength => ColumnType::new(ScalarType::Int32, true),
    }
}
