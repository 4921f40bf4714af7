//! `CLICKS`: web traffic. Per tick, `5 * SCALE FACTOR` clicks by users `1..=100 * SCALE
//! FACTOR`, each from its user's IP address, spread evenly over the tick's interval. Paths
//! have their own latency profiles (a lognormal-like spread, `/search` slowest); about 2% of
//! requests fail with 500. `/login` requests fail with 401 now and then; and in one tick of
//! every 60 a single outside address (`203.0.113.x`) tries `/login` eight times and fails
//! each time, which is what a brute-force alert should catch.

use super::{LoadGeneratorSpec, Output, column, relation};
use crate::repr::{Datum, Row, ScalarType};
use rand::Rng;

const PATHS: &[(&str, f64)] = &[
    ("/", 20.0),
    ("/home", 25.0),
    ("/search", 120.0),
    ("/product", 45.0),
    ("/cart", 35.0),
    ("/checkout", 80.0),
    ("/login", 30.0),
    ("/api/items", 15.0),
];

pub fn outputs() -> Vec<Output> {
    vec![Output {
        name: "clicks",
        desc: relation(
            &["user_id", "ip", "url", "status", "latency_ms", "created_at"],
            vec![
                column(ScalarType::Int64),
                column(ScalarType::String),
                column(ScalarType::String),
                column(ScalarType::Int32),
                column(ScalarType::Int32),
                column(ScalarType::TimestampTz),
            ],
        ),
    }]
}

pub fn generate(spec: &LoadGeneratorSpec, tick: u64) -> Vec<Vec<Row>> {
    let mut rng = spec.rng(tick, 0);
    let scale = spec.scale_factor.max(1);
    let count = 5 * scale;
    let start = spec.tick_time(tick);
    let step = spec.tick_micros / count as i64;
    let mut rows = Vec::with_capacity(count as usize + 8);
    for i in 0..count {
        let user = rng.random_range(1..=100 * scale) as i64;
        let (path, typical) = PATHS[rng.random_range(0..PATHS.len())];
        // A lognormal-like latency: the typical value times e^(normal-ish noise).
        let noise: f64 = (0..4).map(|_| rng.random::<f64>()).sum::<f64>() - 2.0;
        let latency = (typical * noise.exp()).round().max(1.0) as i32;
        let status = if path == "/login" && rng.random_bool(0.1) {
            401
        } else if rng.random_bool(0.02) {
            500
        } else {
            200
        };
        rows.push(click(
            user,
            &user_ip(user),
            path,
            status,
            latency,
            start + chrono::Duration::microseconds(step * i as i64),
        ));
    }
    if tick % 60 == 30 {
        let attacker = format!("203.0.113.{}", tick / 60 % 250 + 1);
        for i in 0..8 {
            rows.push(click(
                0,
                &attacker,
                "/login",
                401,
                12,
                start + chrono::Duration::microseconds(step * i / 2),
            ));
        }
    }
    vec![rows]
}

fn user_ip(user: i64) -> String {
    format!(
        "10.{}.{}.{}",
        user / 65536 % 256,
        user / 256 % 256,
        user % 256
    )
}

fn click(
    user: i64,
    ip: &str,
    path: &str,
    status: i32,
    latency: i32,
    at: chrono::DateTime<chrono::Utc>,
) -> Row {
    Row::new(vec![
        Datum::Int64(user),
        Datum::String(ip.to_string()),
        Datum::String(path.to_string()),
        Datum::Int32(status),
        Datum::Int32(latency),
        Datum::TimestampTz(at),
    ])
}
