//! Plan tests: SQL in, optimized MIR (EXPLAIN text) out, so that a change to planning or
//! optimization shows up as a reviewable diff of `testdata/plans/*.plan`.
//!
//! File format: blocks separated by blank lines. A block starting with `statement` runs DDL
//! against an in-memory catalog; a block starting with `explain` is followed by SQL, a line
//! `----`, and the expected plan. Run with `FRESHET_REWRITE_PLANS=1` to rewrite the expected
//! plans from the current planner (then review the diff).

use freshet::catalog::{Catalog, CatalogEntry, CatalogItem};
use freshet::repr::GlobalId;
use freshet::sql::plan::{Plan, StatementContext, plan};
use std::path::Path;

fn apply_ddl(catalog: &mut Catalog, next_id: &mut u64, sql: &str) {
    for stmt in freshet::sql::parse(sql).expect("DDL parses") {
        let planned = {
            let scx = StatementContext::new(catalog, vec![], Some(&[]));
            plan(&scx, &stmt).unwrap_or_else(|e| panic!("planning {sql}: {e}"))
        };
        let id = GlobalId::User(*next_id);
        *next_id += 1;
        let (name, item) = match planned {
            Plan::CreateTable {
                name,
                desc,
                defaults,
                keys,
                ..
            } => (
                name,
                CatalogItem::Table {
                    desc,
                    defaults,
                    keys,
                },
            ),
            Plan::CreateView {
                name,
                desc,
                expr,
                materialized,
                ..
            } => (
                name,
                if materialized {
                    CatalogItem::MaterializedView { desc, expr }
                } else {
                    CatalogItem::View { desc, expr }
                },
            ),
            Plan::CreateIndex {
                name,
                on,
                keys,
                key_sql,
                unique,
                ..
            } => (
                name,
                CatalogItem::Index {
                    on,
                    keys,
                    key_sql,
                    unique,
                },
            ),
            other => panic!("not DDL: {other:?}"),
        };
        catalog.insert(CatalogEntry {
            id,
            name,
            create_sql: sql.to_string(),
            item,
        });
    }
}

fn explain(catalog: &Catalog, sql: &str) -> String {
    let stmts = freshet::sql::parse(sql).expect("query parses");
    let scx = StatementContext::new(catalog, vec![], Some(&[]));
    let planned = plan(&scx, &stmts[0]).unwrap_or_else(|e| panic!("planning {sql}: {e}"));
    let expr = match planned {
        Plan::Select { expr, .. } => expr,
        Plan::CreateView { expr, .. } => expr,
        other => panic!("not a query: {other:?}"),
    };
    let expr = freshet::optimize::optimize(expr, catalog);
    freshet::coord::explain_plan(&expr, catalog)
}

fn run_file(path: &Path, rewrite: bool) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut catalog = Catalog::default();
    let mut next_id = 1;
    let mut out = String::new();
    let mut failures = Vec::new();
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let block = block.trim_matches('\n');
        if let Some(sql) = block.strip_prefix("statement\n") {
            apply_ddl(&mut catalog, &mut next_id, sql);
            out.push_str(block);
        } else if let Some(rest) = block.strip_prefix("explain\n") {
            let (sql, expected) = rest
                .split_once("\n----\n")
                .unwrap_or((rest.trim_end_matches("\n----"), ""));
            let actual = explain(&catalog, sql);
            if actual.trim_end() != expected.trim_end() {
                failures.push(format!("{sql}\nexpected:\n{expected}\nactual:\n{actual}"));
            }
            out.push_str(&format!("explain\n{sql}\n----\n{}", actual.trim_end()));
        } else {
            out.push_str(block);
        }
        out.push_str("\n\n");
    }
    if rewrite {
        std::fs::write(path, out.trim_end().to_string() + "\n").map_err(|e| e.to_string())?;
        return Ok(());
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n\n"))
    }
}

#[test]
fn optimized_plans_match_the_expected_text() {
    let rewrite = std::env::var("FRESHET_REWRITE_PLANS").is_ok();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/plans");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("testdata/plans exists")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let mut failures = Vec::new();
    for file in &files {
        if let Err(e) = run_file(file, rewrite) {
            failures.push(format!("{}:\n{e}", file.display()));
        }
    }
    assert!(!files.is_empty(), "no plan files");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
