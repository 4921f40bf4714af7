//! Statement parsing: sqlparser's PostgreSQL dialect for standard SQL, and our own small
//! grammar (built on sqlparser's parser primitives) for the statements it does not know:
//!
//! ```text
//! SUBSCRIBE [TO] <name | (query)> [WITH (SNAPSHOT [=] bool, PROGRESS [[=] bool])]
//! COPY (SUBSCRIBE ...) TO STDOUT
//! DECLARE c CURSOR FOR SUBSCRIBE ...
//! FETCH [ALL | n] [FROM | IN] c [WITH (TIMEOUT [=] 'interval')]
//! CLOSE c
//! SHOW TABLES | VIEWS | MATERIALIZED VIEWS | SOURCES | SINKS | CONNECTIONS | SECRETS
//! SHOW SOURCE STATUSES
//!     | INDEXES [ON | FROM name] | COLUMNS FROM name
//! SHOW CREATE TABLE | VIEW | MATERIALIZED VIEW | INDEX name
//! EXPLAIN [MATERIALIZED] VIEW name
//! ALTER TABLE | VIEW | MATERIALIZED VIEW | INDEX [IF EXISTS] name RENAME TO new_name
//! ```
//!
//! Materialize's `WITH MUTUALLY RECURSIVE [(RETURN | ERROR AT RECURSION LIMIT n)]` may
//! appear wherever a query may, which our own grammar cannot reach inside sqlparser's. Its
//! tokens are rewritten before parsing into `WITH RECURSIVE` whose first CTE is a marker,
//! named [`MUTUALLY_RECURSIVE_MARKER`] plus the limit, that the planner recognizes
//! (`plan/recursive.rs`). The CTEs' typed column lists (`x (a int)`) parse as they are.

mod kafka;

pub use kafka::{
    CreateConnectionStatement, CreateSecretStatement, CreateSinkStatement, FormatSyntax,
    KafkaSourceStatement, OptionValue,
};

use super::{PlanError, Result};
use sqlparser::ast::{self, ObjectName};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;
use std::time::Duration;

/// One parsed statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    Sql(Box<ast::Statement>),
    Subscribe(SubscribeStatement),
    /// `COPY (SUBSCRIBE ...) TO STDOUT`.
    CopySubscribe(SubscribeStatement),
    DeclareCursor {
        name: String,
        body: CursorBody,
    },
    Fetch {
        cursor: String,
        /// `None`: ALL.
        count: Option<u64>,
        timeout: Option<Duration>,
    },
    Close {
        cursor: String,
    },
    Show(ShowStatement),
    /// `EXPLAIN [MATERIALIZED] VIEW name`: the plan of a view's definition.
    ExplainItem {
        name: ObjectName,
    },
    AlterRename {
        kind: ObjectKind,
        if_exists: bool,
        name: ObjectName,
        new_name: String,
    },
    /// `CREATE SOURCE name FROM LOAD GENERATOR kind [(options)] [FOR ALL TABLES]`.
    CreateSource(CreateSourceStatement),
    /// `CREATE SOURCE name [(columns)] FROM KAFKA CONNECTION ...` (see `parse/kafka.rs`).
    CreateKafkaSource(KafkaSourceStatement),
    CreateConnection(CreateConnectionStatement),
    CreateSecret(CreateSecretStatement),
    CreateSink(CreateSinkStatement),
    /// `DROP SOURCE | CONNECTION | SECRET [IF EXISTS] name [, ...] [CASCADE | RESTRICT]`
    /// (other kinds of DROP are sqlparser's).
    DropItems {
        kind: ObjectKind,
        if_exists: bool,
        names: Vec<ObjectName>,
        cascade: bool,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct CreateSourceStatement {
    pub name: ObjectName,
    pub if_not_exists: bool,
    /// The generator's name, lowercased (`counter`, `auction`, ...).
    pub generator: String,
    /// `(TICK INTERVAL '1s', SCALE FACTOR 2, ...)`: option names (lowercased, words joined
    /// by a space) and their values.
    pub options: Vec<(String, ast::Expr)>,
    pub for_all_tables: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CursorBody {
    Subscribe(SubscribeStatement),
    Query(Box<ast::Query>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct SubscribeStatement {
    pub target: SubscribeTarget,
    pub snapshot: bool,
    pub progress: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SubscribeTarget {
    Name(ObjectName),
    Query(Box<ast::Query>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectKind {
    Table,
    View,
    MaterializedView,
    Index,
    Source,
    Connection,
    Secret,
    Sink,
    Sequence,
}

impl ObjectKind {
    /// The catalog's kind of item this names.
    pub fn item_kind(self) -> crate::catalog::ItemKind {
        use crate::catalog::ItemKind;
        match self {
            ObjectKind::Table => ItemKind::Table,
            ObjectKind::View => ItemKind::View,
            ObjectKind::MaterializedView => ItemKind::MaterializedView,
            ObjectKind::Index => ItemKind::Index,
            ObjectKind::Source => ItemKind::Source,
            ObjectKind::Connection => ItemKind::Connection,
            ObjectKind::Secret => ItemKind::Secret,
            ObjectKind::Sink => ItemKind::Sink,
            ObjectKind::Sequence => ItemKind::Sequence,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ShowStatement {
    Objects(ObjectKind),
    Indexes {
        on: Option<ObjectName>,
    },
    Columns {
        from: ObjectName,
    },
    Create {
        kind: ObjectKind,
        name: ObjectName,
    },
    /// `SHOW variable` / `SHOW ALL`.
    Variable(String),
    /// `SHOW SOURCE STATUSES`: each running source's state, from the coordinator.
    SourceStatuses,
}

/// How deeply expressions may nest. sqlparser's default (50) refuses machine-written
/// predicates that PostgreSQL runs (the sqllogictest corpus has `WHERE` clauses nested about
/// 60 deep); the server's threads have stacks big enough for this (see `main.rs`).
const PARSER_RECURSION_LIMIT: usize = 256;

/// The start of the name of the marker CTE that `WITH MUTUALLY RECURSIVE` becomes: the name
/// continues with ` return n`, ` error n` or ` default`. It has spaces, so only a quoted
/// identifier could collide with it.
pub const MUTUALLY_RECURSIVE_MARKER: &str = "mutually recursive";

/// Parses SQL text into statements.
pub fn parse(sql: &str) -> Result<Vec<Statement>> {
    let dialect = PostgreSqlDialect {};
    let tokens = sqlparser::tokenizer::Tokenizer::new(&dialect, sql)
        .tokenize()
        .map_err(|e| syntax(ParserError::TokenizerError(e.to_string())))?;
    let tokens = rewrite_mutually_recursive(tokens)?;
    let mut parser = Parser::new(&dialect)
        .with_recursion_limit(PARSER_RECURSION_LIMIT)
        .with_tokens(tokens);
    let mut statements = Vec::new();
    loop {
        while parser.consume_token(&Token::SemiColon) {}
        if parser.peek_token().token == Token::EOF {
            break;
        }
        let statement = match parse_own_statement(&mut parser).map_err(syntax)? {
            Some(s) => s,
            None => Statement::Sql(Box::new(parser.parse_statement().map_err(syntax)?)),
        };
        statements.push(statement);
        match parser.peek_token().token {
            Token::SemiColon | Token::EOF => {}
            other => {
                return Err(PlanError::Syntax(format!(
                    "syntax error at or near \"{other}\""
                )));
            }
        }
    }
    Ok(statements)
}

/// `WITH MUTUALLY RECURSIVE [(options)]` as `WITH RECURSIVE "mutually recursive ..." AS
/// (SELECT 1),` (see the module docs).
fn rewrite_mutually_recursive(tokens: Vec<Token>) -> Result<Vec<Token>> {
    let is_word = |t: &Token, w: &str| matches!(t, Token::Word(word) if word.quote_style.is_none() && word.value.eq_ignore_ascii_case(w));
    let significant = |tokens: &[Token], from: usize| {
        (from..tokens.len()).find(|&i| !matches!(tokens[i], Token::Whitespace(_)))
    };
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        let mutually = significant(&tokens, i + 1);
        let recursive = mutually.and_then(|m| significant(&tokens, m + 1));
        let (true, Some(m), Some(r)) = (is_word(token, "with"), mutually, recursive) else {
            out.push(token.clone());
            i += 1;
            continue;
        };
        if !(is_word(&tokens[m], "mutually") && is_word(&tokens[r], "recursive")) {
            out.push(token.clone());
            i += 1;
            continue;
        }
        // Options: `(RETURN AT RECURSION LIMIT n)`, `(ERROR AT RECURSION LIMIT n)` or
        // `(RECURSION LIMIT n)`.
        let mut next = r + 1;
        let mut limit = "default".to_string();
        if let Some(open) = significant(&tokens, next)
            && tokens[open] == Token::LParen
        {
            let close = (open..tokens.len())
                .find(|&j| tokens[j] == Token::RParen)
                .ok_or_else(|| {
                    PlanError::Syntax(
                        "syntax error: unclosed WITH MUTUALLY RECURSIVE options".into(),
                    )
                })?;
            let words: Vec<String> = tokens[open + 1..close]
                .iter()
                .filter(|t| !matches!(t, Token::Whitespace(_)))
                .map(|t| t.to_string().to_lowercase())
                .collect();
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            limit = match words.as_slice() {
                ["return", "at", "recursion", "limit", n] => format!("return {n}"),
                ["error", "at", "recursion", "limit", n] | ["recursion", "limit", n] => {
                    format!("error {n}")
                }
                _ => {
                    return Err(PlanError::Syntax(format!(
                        "syntax error: unknown WITH MUTUALLY RECURSIVE option ({})",
                        words.join(" ")
                    )));
                }
            };
            next = close + 1;
        }
        let marker = format!("{MUTUALLY_RECURSIVE_MARKER} {limit}");
        let rewritten = format!("WITH RECURSIVE \"{marker}\" AS (SELECT 1),");
        let dialect = PostgreSqlDialect {};
        let inserted = sqlparser::tokenizer::Tokenizer::new(&dialect, &rewritten)
            .tokenize()
            .map_err(|e| syntax(ParserError::TokenizerError(e.to_string())))?;
        out.extend(inserted);
        out.push(Token::Whitespace(sqlparser::tokenizer::Whitespace::Space));
        i = next;
    }
    Ok(out)
}

fn syntax(e: ParserError) -> PlanError {
    let message = match e {
        ParserError::ParserError(m) | ParserError::TokenizerError(m) => m,
        ParserError::RecursionLimitExceeded => "statement is too deeply nested".into(),
    };
    // sqlparser says "Expected: X, found: Y at Line: 1, Column: 8"; PostgreSQL says
    // "syntax error at or near "Y"". Keep sqlparser's detail after PostgreSQL's prefix.
    match message.split_once("found: ") {
        Some((_, rest)) => {
            let near = rest.split(" at Line").next().unwrap_or(rest);
            PlanError::Syntax(format!("syntax error at or near \"{near}\""))
        }
        None => PlanError::Syntax(format!("syntax error: {message}")),
    }
}

fn peek_word(parser: &Parser, n: usize) -> Option<String> {
    let mut tokens = Vec::new();
    for i in 0..=n {
        tokens.push(parser.peek_nth_token(i).token);
    }
    match &tokens[n] {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_lowercase()),
        _ => None,
    }
}

fn parse_own_statement(parser: &mut Parser) -> std::result::Result<Option<Statement>, ParserError> {
    let first = peek_word(parser, 0);
    let second = peek_word(parser, 1);
    match (first.as_deref(), second.as_deref()) {
        (Some("create"), Some("source")) => {
            parser.next_token();
            parser.next_token();
            Ok(Some(parse_create_source(parser)?))
        }
        (Some("create"), Some("connection")) => {
            parser.next_token();
            parser.next_token();
            Ok(Some(Statement::CreateConnection(
                kafka::parse_create_connection(parser)?,
            )))
        }
        (Some("create"), Some("sink")) => {
            parser.next_token();
            parser.next_token();
            Ok(Some(Statement::CreateSink(kafka::parse_create_sink(
                parser,
            )?)))
        }
        (Some("create"), Some("secret")) => {
            parser.next_token();
            parser.next_token();
            Ok(Some(Statement::CreateSecret(kafka::parse_create_secret(
                parser,
            )?)))
        }
        (Some("drop"), Some(kind @ ("source" | "connection" | "secret" | "sink"))) => {
            let kind = match kind {
                "source" => ObjectKind::Source,
                "connection" => ObjectKind::Connection,
                "sink" => ObjectKind::Sink,
                _ => ObjectKind::Secret,
            };
            parser.next_token();
            parser.next_token();
            let if_exists = parser.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
            let names = parser.parse_comma_separated(|p| p.parse_object_name(false))?;
            let cascade = parser.parse_keyword(Keyword::CASCADE);
            if !cascade {
                let _ = parser.parse_keyword(Keyword::RESTRICT);
            }
            Ok(Some(Statement::DropItems {
                kind,
                if_exists,
                names,
                cascade,
            }))
        }
        (Some("subscribe"), _) => {
            parser.next_token();
            Ok(Some(Statement::Subscribe(parse_subscribe_body(parser)?)))
        }
        (Some("copy"), _)
            if matches!(parser.peek_nth_token(1).token, Token::LParen)
                && peek_word(parser, 2).as_deref() == Some("subscribe") =>
        {
            parser.next_token();
            parser.expect_token(&Token::LParen)?;
            parser.next_token();
            let subscribe = parse_subscribe_body(parser)?;
            parser.expect_token(&Token::RParen)?;
            parser.expect_keyword(Keyword::TO)?;
            parser.expect_keyword(Keyword::STDOUT)?;
            if parser.parse_keyword(Keyword::WITH)
                || matches!(parser.peek_token().token, Token::LParen)
            {
                return Err(ParserError::ParserError(
                    "Expected: end of statement, found: COPY options".into(),
                ));
            }
            Ok(Some(Statement::CopySubscribe(subscribe)))
        }
        (Some("declare"), _) => {
            parser.next_token();
            let name = parser.parse_identifier()?.value;
            parser.expect_keyword(Keyword::CURSOR)?;
            if parser.parse_keyword(Keyword::WITHOUT) {
                parser.expect_keyword(Keyword::HOLD)?;
            }
            parser.expect_keyword(Keyword::FOR)?;
            let body = if peek_word(parser, 0).as_deref() == Some("subscribe") {
                parser.next_token();
                CursorBody::Subscribe(parse_subscribe_body(parser)?)
            } else {
                CursorBody::Query(parser.parse_query()?)
            };
            Ok(Some(Statement::DeclareCursor { name, body }))
        }
        (Some("fetch"), _) => {
            parser.next_token();
            let mut count = Some(1);
            if parser.parse_keyword(Keyword::ALL) {
                count = None;
            } else if parser.parse_keyword(Keyword::FORWARD) {
                if parser.parse_keyword(Keyword::ALL) {
                    count = None;
                } else if let Token::Number(..) = parser.peek_token().token {
                    count = Some(parser.parse_literal_uint()?);
                }
            } else if parser.parse_keyword(Keyword::NEXT) {
                count = Some(1);
            } else if let Token::Number(..) = parser.peek_token().token {
                count = Some(parser.parse_literal_uint()?);
            }
            let _ = parser.parse_keyword(Keyword::FROM) || parser.parse_keyword(Keyword::IN);
            let cursor = parser.parse_identifier()?.value;
            let mut timeout = None;
            if parser.parse_keyword(Keyword::WITH) {
                parser.expect_token(&Token::LParen)?;
                let option = parser.parse_identifier()?.value.to_lowercase();
                if option != "timeout" {
                    return Err(ParserError::ParserError(format!(
                        "Expected: TIMEOUT, found: {option}"
                    )));
                }
                let _ = parser.consume_token(&Token::Eq);
                let text = parser.parse_literal_string()?;
                timeout = Some(parse_duration(&text).ok_or_else(|| {
                    ParserError::ParserError(format!("Expected: a duration, found: {text}"))
                })?);
                parser.expect_token(&Token::RParen)?;
            }
            Ok(Some(Statement::Fetch {
                cursor,
                count,
                timeout,
            }))
        }
        (Some("explain"), Some("materialized" | "view")) => {
            parser.next_token();
            let _ = parser.parse_keyword(Keyword::MATERIALIZED);
            parser.expect_keyword(Keyword::VIEW)?;
            let name = parser.parse_object_name(false)?;
            Ok(Some(Statement::ExplainItem { name }))
        }
        (Some("close"), _) => {
            parser.next_token();
            let cursor = parser.parse_identifier()?.value;
            Ok(Some(Statement::Close { cursor }))
        }
        (Some("show"), Some(w)) => {
            let kind = match w {
                "tables" => Some(ShowStatement::Objects(ObjectKind::Table)),
                "views" => Some(ShowStatement::Objects(ObjectKind::View)),
                "sources" => Some(ShowStatement::Objects(ObjectKind::Source)),
                "sinks" => Some(ShowStatement::Objects(ObjectKind::Sink)),
                "connections" => Some(ShowStatement::Objects(ObjectKind::Connection)),
                "secrets" => Some(ShowStatement::Objects(ObjectKind::Secret)),
                "source" if peek_word(parser, 2).as_deref() == Some("statuses") => {
                    parser.next_token();
                    Some(ShowStatement::SourceStatuses)
                }
                "materialized" if peek_word(parser, 2).as_deref() == Some("views") => {
                    parser.next_token();
                    Some(ShowStatement::Objects(ObjectKind::MaterializedView))
                }
                "indexes" | "index" | "keys" => None,
                "columns" | "create" => None,
                _ => {
                    // SHOW <variable>: the rest of the statement is the name.
                    parser.next_token();
                    let mut words: Vec<String> = Vec::new();
                    loop {
                        match parser.peek_token().token {
                            Token::SemiColon | Token::EOF => break,
                            Token::Period => {
                                parser.next_token();
                                if let Some(last) = words.last_mut() {
                                    last.push('.');
                                }
                            }
                            t => {
                                let text = match t {
                                    Token::Word(w) => w.value,
                                    other => other.to_string(),
                                };
                                match words.last_mut() {
                                    Some(last) if last.ends_with('.') => last.push_str(&text),
                                    _ => words.push(text),
                                }
                                parser.next_token();
                            }
                        }
                    }
                    let name = words.join(" ").to_lowercase();
                    let name = match name.as_str() {
                        "transaction isolation level" => "transaction_isolation".to_string(),
                        "time zone" => "timezone".to_string(),
                        _ => name,
                    };
                    return Ok(Some(Statement::Show(ShowStatement::Variable(name))));
                }
            };
            parser.next_token();
            parser.next_token();
            if let Some(kind) = kind {
                return Ok(Some(Statement::Show(kind)));
            }
            match w {
                "indexes" | "index" | "keys" => {
                    let on = if parser.parse_keyword(Keyword::ON)
                        || parser.parse_keyword(Keyword::FROM)
                        || parser.parse_keyword(Keyword::IN)
                    {
                        Some(parser.parse_object_name(false)?)
                    } else {
                        None
                    };
                    Ok(Some(Statement::Show(ShowStatement::Indexes { on })))
                }
                "columns" => {
                    if !(parser.parse_keyword(Keyword::FROM) || parser.parse_keyword(Keyword::IN)) {
                        return Err(ParserError::ParserError(
                            "Expected: FROM, found: end of input".into(),
                        ));
                    }
                    let from = parser.parse_object_name(false)?;
                    Ok(Some(Statement::Show(ShowStatement::Columns { from })))
                }
                _ => {
                    let kind = parse_object_kind(parser)?;
                    let name = parser.parse_object_name(false)?;
                    Ok(Some(Statement::Show(ShowStatement::Create { kind, name })))
                }
            }
        }
        (Some("alter"), Some("table" | "view" | "materialized" | "index")) => {
            // Only RENAME TO is ours; everything else goes to sqlparser.
            if !is_rename_statement(parser) {
                return Ok(None);
            }
            parser.next_token();
            let kind = parse_object_kind(parser)?;
            let if_exists = parser.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
            let name = parser.parse_object_name(false)?;
            if parser.parse_keywords(&[Keyword::RENAME, Keyword::TO]) {
                let new_name = parser.parse_identifier()?;
                return Ok(Some(Statement::AlterRename {
                    kind,
                    if_exists,
                    name,
                    new_name: normalize(&new_name),
                }));
            }
            Err(ParserError::ParserError(format!(
                "Expected: RENAME TO, found: {}",
                parser.peek_token().token
            )))
        }
        _ => Ok(None),
    }
}

/// Whether the statement ahead ends with `RENAME TO <name>` (looking ahead only).
fn is_rename_statement(parser: &Parser) -> bool {
    let mut words = Vec::new();
    for i in 0.. {
        match parser.peek_nth_token(i).token {
            Token::SemiColon | Token::EOF => break,
            Token::Word(w) => words.push(w.value.to_lowercase()),
            _ => words.push(String::new()),
        }
    }
    let n = words.len();
    n >= 3 && words[n - 3] == "rename" && words[n - 2] == "to"
}

fn normalize(ident: &ast::Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

fn parse_object_kind(parser: &mut Parser) -> std::result::Result<ObjectKind, ParserError> {
    if parser.parse_keyword(Keyword::TABLE) {
        Ok(ObjectKind::Table)
    } else if parser.parse_keyword(Keyword::VIEW) {
        Ok(ObjectKind::View)
    } else if parser.parse_keywords(&[Keyword::MATERIALIZED, Keyword::VIEW]) {
        Ok(ObjectKind::MaterializedView)
    } else if parser.parse_keyword(Keyword::INDEX) {
        Ok(ObjectKind::Index)
    } else if parser.parse_keyword(Keyword::SOURCE) {
        Ok(ObjectKind::Source)
    } else {
        Err(ParserError::ParserError(format!(
            "Expected: TABLE, VIEW, MATERIALIZED VIEW or INDEX, found: {}",
            parser.peek_token().token
        )))
    }
}

/// After `CREATE SOURCE`: `[IF NOT EXISTS] name [(columns)] FROM KAFKA ...` (see
/// `parse/kafka.rs`) or `[IF NOT EXISTS] name FROM LOAD GENERATOR kind [(option value,
/// ...)] [FOR ALL TABLES]`. Option names are one or more words (`TICK INTERVAL`).
fn parse_create_source(parser: &mut Parser) -> std::result::Result<Statement, ParserError> {
    let if_not_exists = parser.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    let name = parser.parse_object_name(false)?;
    let mut columns = Vec::new();
    if parser.consume_token(&Token::LParen) {
        columns = parser.parse_comma_separated(|p| {
            let column = p.parse_identifier()?.value;
            Ok((column, p.parse_data_type()?))
        })?;
        parser.expect_token(&Token::RParen)?;
    }
    parser.expect_keyword(Keyword::FROM)?;
    if peek_word(parser, 0).as_deref() == Some("kafka") {
        parser.next_token();
        return Ok(Statement::CreateKafkaSource(kafka::parse_kafka_source(
            parser,
            name,
            if_not_exists,
            columns,
        )?));
    }
    if !columns.is_empty() {
        return Err(ParserError::ParserError(
            "Expected: FROM KAFKA (a load generator's columns are fixed), found: a column list"
                .into(),
        ));
    }
    if peek_word(parser, 0).as_deref() != Some("load")
        || peek_word(parser, 1).as_deref() != Some("generator")
    {
        return Err(ParserError::ParserError(format!(
            "Expected: KAFKA or LOAD GENERATOR, found: {}",
            parser.peek_token().token
        )));
    }
    parser.next_token();
    parser.next_token();
    let generator = match parser.next_token().token {
        Token::Word(w) => w.value.to_lowercase(),
        other => {
            return Err(ParserError::ParserError(format!(
                "Expected: a load generator name, found: {other}"
            )));
        }
    };
    let mut options = Vec::new();
    if parser.consume_token(&Token::LParen) {
        loop {
            let Some(first) = peek_word(parser, 0) else {
                return Err(ParserError::ParserError(format!(
                    "Expected: an option name, found: {}",
                    parser.peek_token().token
                )));
            };
            parser.next_token();
            // Two-word option names; any other name is one word.
            let name = match (first.as_str(), peek_word(parser, 0).as_deref()) {
                ("tick", Some("interval"))
                | ("scale", Some("factor"))
                | ("up", Some("to"))
                | ("as", Some("of")) => {
                    let second = peek_word(parser, 0).unwrap_or_default();
                    parser.next_token();
                    format!("{first} {second}")
                }
                _ => first,
            };
            let value = parser.parse_expr()?;
            options.push((name, value));
            if !parser.consume_token(&Token::Comma) {
                break;
            }
        }
        parser.expect_token(&Token::RParen)?;
    }
    let for_all_tables = parser.parse_keywords(&[Keyword::FOR, Keyword::ALL, Keyword::TABLES]);
    Ok(Statement::CreateSource(CreateSourceStatement {
        name,
        if_not_exists,
        generator,
        options,
        for_all_tables,
    }))
}

/// After the SUBSCRIBE keyword: `[TO] <name | (query)> [WITH (options)]`.
fn parse_subscribe_body(
    parser: &mut Parser,
) -> std::result::Result<SubscribeStatement, ParserError> {
    let _ = parser.parse_keyword(Keyword::TO);
    let target = if parser.consume_token(&Token::LParen) {
        let query = parser.parse_query()?;
        parser.expect_token(&Token::RParen)?;
        SubscribeTarget::Query(query)
    } else {
        SubscribeTarget::Name(parser.parse_object_name(false)?)
    };
    let mut statement = SubscribeStatement {
        target,
        snapshot: true,
        progress: false,
    };
    if parser.parse_keyword(Keyword::WITH) {
        parser.expect_token(&Token::LParen)?;
        loop {
            let option = parser.parse_identifier()?.value.to_lowercase();
            let _ = parser.consume_token(&Token::Eq);
            let value = match parser.peek_token().token {
                Token::Comma | Token::RParen => true,
                _ => {
                    if parser.parse_keyword(Keyword::TRUE) {
                        true
                    } else if parser.parse_keyword(Keyword::FALSE) {
                        false
                    } else {
                        return Err(ParserError::ParserError(format!(
                            "Expected: true or false, found: {}",
                            parser.peek_token().token
                        )));
                    }
                }
            };
            match option.as_str() {
                "snapshot" => statement.snapshot = value,
                "progress" => statement.progress = value,
                other => {
                    return Err(ParserError::ParserError(format!(
                        "Expected: SNAPSHOT or PROGRESS, found: {other}"
                    )));
                }
            }
            if !parser.consume_token(&Token::Comma) {
                break;
            }
        }
        parser.expect_token(&Token::RParen)?;
    }
    Ok(statement)
}

/// A duration like `1s`, `500ms`, `2 seconds`, `0`.
fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim().to_lowercase();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "" | "s" | "sec" | "second" | "seconds" => value,
        "ms" | "millisecond" | "milliseconds" => value / 1000.0,
        "us" | "microsecond" | "microseconds" => value / 1_000_000.0,
        "m" | "min" | "minute" | "minutes" => value * 60.0,
        _ => return None,
    };
    if !seconds.is_finite() || seconds < 0.0 {
        return None;
    }
    Some(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutually_recursive_becomes_a_marked_with_recursive() {
        let sql = "WITH MUTUALLY RECURSIVE (RETURN AT RECURSION LIMIT 3) c (n int) AS \
                   (SELECT 1) SELECT * FROM c";
        let statements: [Statement; 1] = parse(sql).unwrap().try_into().unwrap();
        let [Statement::Sql(statement)] = statements else {
            panic!("one SQL statement");
        };
        let ast::Statement::Query(query) = *statement else {
            panic!("a query");
        };
        let with = query.with.expect("a WITH clause");
        assert!(with.recursive);
        let names: Vec<&str> = with
            .cte_tables
            .iter()
            .map(|c| c.alias.name.value.as_str())
            .collect();
        assert_eq!(names, vec!["mutually recursive return 3", "c"]);
        // The words alone, elsewhere, are untouched.
        assert!(parse("SELECT 'with' AS mutually").is_ok());
    }

    #[test]
    fn subscribe_parses_name_query_and_options() {
        let s = parse("SUBSCRIBE t; SUBSCRIBE TO (SELECT 1) WITH (SNAPSHOT = false, PROGRESS)")
            .unwrap();
        assert_eq!(s.len(), 2);
        match &s[1] {
            Statement::Subscribe(sub) => {
                assert!(!sub.snapshot);
                assert!(sub.progress);
                assert!(matches!(sub.target, SubscribeTarget::Query(_)));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn copy_subscribe_and_cursor_statements_parse() {
        let s = parse("COPY (SUBSCRIBE t) TO STDOUT; DECLARE c CURSOR FOR SUBSCRIBE t; FETCH ALL c WITH (timeout = '1s'); CLOSE c").unwrap();
        assert!(matches!(s[0], Statement::CopySubscribe(_)));
        assert!(matches!(s[1], Statement::DeclareCursor { .. }));
        assert_eq!(
            s[2],
            Statement::Fetch {
                cursor: "c".into(),
                count: None,
                timeout: Some(Duration::from_secs(1))
            }
        );
    }

    #[test]
    fn show_statements_parse() {
        let s = parse("SHOW TABLES; SHOW MATERIALIZED VIEWS; SHOW INDEXES ON t; SHOW COLUMNS FROM t; SHOW CREATE VIEW v; SHOW search_path").unwrap();
        assert_eq!(
            s[0],
            Statement::Show(ShowStatement::Objects(ObjectKind::Table))
        );
        assert_eq!(
            s[1],
            Statement::Show(ShowStatement::Objects(ObjectKind::MaterializedView))
        );
        assert!(matches!(
            s[2],
            Statement::Show(ShowStatement::Indexes { on: Some(_) })
        ));
        assert!(matches!(
            s[3],
            Statement::Show(ShowStatement::Columns { .. })
        ));
        assert!(matches!(
            s[4],
            Statement::Show(ShowStatement::Create {
                kind: ObjectKind::View,
                ..
            })
        ));
        assert_eq!(
            s[5],
            Statement::Show(ShowStatement::Variable("search_path".into()))
        );
    }

    #[test]
    fn alter_rename_is_ours_and_other_alters_are_sqlparsers() {
        let s = parse(
            "ALTER MATERIALIZED VIEW IF EXISTS mv RENAME TO mv2; ALTER TABLE t ADD COLUMN c int",
        )
        .unwrap();
        assert!(
            matches!(&s[0], Statement::AlterRename { kind: ObjectKind::MaterializedView, if_exists: true, new_name, .. } if new_name == "mv2")
        );
        assert!(matches!(s[1], Statement::Sql(_)));
    }

    #[test]
    fn multi_word_show_names_normalize() {
        let s = parse("SHOW TRANSACTION ISOLATION LEVEL; SHOW TIME ZONE").unwrap();
        assert_eq!(
            s[0],
            Statement::Show(ShowStatement::Variable("transaction_isolation".into()))
        );
        assert_eq!(
            s[1],
            Statement::Show(ShowStatement::Variable("timezone".into()))
        );
    }

    #[test]
    fn bad_sql_is_a_syntax_error() {
        let e = parse("SELEC 1").unwrap_err();
        assert_eq!(e.sqlstate(), "42601");
    }
}
