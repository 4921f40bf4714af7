//! `AUCTION`, with Materialize's schema: `organizations`, `users`, `accounts`, `auctions`,
//! `bids`. Tick 0 creates `10 * SCALE FACTOR` organizations, 10 users and one account per
//! organization. Every tick opens one auction (`id = tick + 1`) by a random seller, ending
//! 10 ticks later, and places up to 5 bids by random users on auctions still open.

use super::{LoadGeneratorSpec, Output, column, relation};
use crate::repr::{Datum, Row, ScalarType};
use rand::Rng;

const ITEMS: &[&str] = &[
    "Best Pizza in Town",
    "Gift Basket",
    "City Bar Crawl",
    "Custom Art",
    "Signed Memorabilia",
    "Vintage Guitar",
    "Weekend Getaway",
    "Concert Tickets",
];

/// An auction is open for this many ticks.
const AUCTION_TICKS: i64 = 10;

pub fn outputs() -> Vec<Output> {
    let int = || column(ScalarType::Int64);
    let text = || column(ScalarType::String);
    let time = || column(ScalarType::TimestampTz);
    vec![
        Output {
            name: "organizations",
            desc: relation(&["id", "name"], vec![int(), text()]),
        },
        Output {
            name: "users",
            desc: relation(&["id", "org_id", "name"], vec![int(), int(), text()]),
        },
        Output {
            name: "accounts",
            desc: relation(&["id", "org_id", "balance"], vec![int(), int(), int()]),
        },
        Output {
            name: "auctions",
            desc: relation(
                &["id", "seller", "item", "end_time"],
                vec![int(), int(), text(), time()],
            ),
        },
        Output {
            name: "bids",
            desc: relation(
                &["id", "buyer", "auction_id", "amount", "bid_time"],
                vec![int(), int(), int(), column(ScalarType::Int32), time()],
            ),
        },
    ]
}

pub fn generate(spec: &LoadGeneratorSpec, tick: u64) -> Vec<Vec<Row>> {
    let organizations = 10 * spec.scale_factor.max(1) as i64;
    let users = organizations * 10;
    let mut out = vec![Vec::new(); 5];
    if tick == 0 {
        for org in 1..=organizations {
            out[0].push(Row::new(vec![
                Datum::Int64(org),
                Datum::String(format!("Organization {org}")),
            ]));
            out[2].push(Row::new(vec![
                Datum::Int64(org),
                Datum::Int64(org),
                Datum::Int64(1_000 * org),
            ]));
        }
        for user in 1..=users {
            out[1].push(Row::new(vec![
                Datum::Int64(user),
                Datum::Int64((user - 1) % organizations + 1),
                Datum::String(format!("user{user}")),
            ]));
        }
    }
    let mut rng = spec.rng(tick, 0);
    let now = spec.tick_time(tick);
    let auction = tick as i64 + 1;
    out[3].push(Row::new(vec![
        Datum::Int64(auction),
        Datum::Int64(rng.random_range(1..=users)),
        Datum::String(ITEMS[rng.random_range(0..ITEMS.len())].to_string()),
        Datum::TimestampTz(now + chrono::Duration::microseconds(spec.tick_micros * AUCTION_TICKS)),
    ]));
    let bids = rng.random_range(0..=5);
    for b in 0..bids {
        // An auction opened in the last AUCTION_TICKS ticks (so still open).
        let target = (auction - rng.random_range(0..AUCTION_TICKS)).max(1);
        out[4].push(Row::new(vec![
            Datum::Int64(auction * 8 + b),
            Datum::Int64(rng.random_range(1..=users)),
            Datum::Int64(target),
            Datum::Int32(rng.random_range(1..=100)),
            Datum::TimestampTz(now + chrono::Duration::microseconds(spec.tick_micros * b / 8)),
        ]));
    }
    out
}
