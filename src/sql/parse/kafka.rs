//! Our grammar for Kafka connections, secrets and sources (Materialize's syntax):
//!
//! ```text
//! CREATE SECRET [IF NOT EXISTS] name AS 'value'
//! CREATE CONNECTION [IF NOT EXISTS] name TO KAFKA (BROKER 'host:port' [, option value ...])
//! CREATE SOURCE [IF NOT EXISTS] name [(column type, ...)]
//!     FROM KAFKA CONNECTION conn (TOPIC 't' [, START OFFSET (o, ...)] [, START TIMESTAMP n])
//!     [FORMAT f | KEY FORMAT f VALUE FORMAT f]
//!     [INCLUDE KEY | PARTITION | OFFSET | TIMESTAMP [AS name], ...]
//!     [ENVELOPE NONE | UPSERT | DEBEZIUM]
//! CREATE SINK [IF NOT EXISTS] name FROM relation
//!     INTO KAFKA CONNECTION conn (TOPIC 't') [KEY (column, ...)]
//!     FORMAT f ENVELOPE UPSERT | DEBEZIUM
//! f: TEXT | BYTES | JSON | CSV WITH n COLUMNS | CSV WITH HEADER | <other words, kept for
//!    the planner to refuse by name>
//! ```
//!
//! An option's name is its words (lowercased, joined by a space); its value is a literal
//! expression, a parenthesized list, or `SECRET name`.

use super::peek_word;
use sqlparser::ast::{self, ObjectName};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

#[derive(Clone, Debug, PartialEq)]
pub enum OptionValue {
    Expr(Box<ast::Expr>),
    List(Vec<ast::Expr>),
    Secret(ObjectName),
}

pub type Options = Vec<(String, OptionValue)>;

#[derive(Clone, Debug, PartialEq)]
pub struct CreateConnectionStatement {
    pub name: ObjectName,
    pub if_not_exists: bool,
    /// `KAFKA` (lowercased): the only kind so far is checked by the planner.
    pub kind: String,
    pub options: Options,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CreateSecretStatement {
    pub name: ObjectName,
    pub if_not_exists: bool,
    pub value: ast::Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FormatSyntax {
    Text,
    Bytes,
    Json,
    Csv {
        columns: u64,
    },
    CsvWithHeader,
    /// `AVRO USING SCHEMA 'schema'`: the record schema's JSON text.
    AvroSchema(String),
    /// `PROTOBUF MESSAGE 'name' USING SCHEMA '\x...'`: the message's full name and the
    /// hex-encoded FileDescriptorSet.
    Protobuf {
        message: String,
        schema: String,
    },
    /// A format we do not read (AVRO with a schema registry, ...): its first word.
    Other(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct KafkaSourceStatement {
    pub name: ObjectName,
    pub if_not_exists: bool,
    pub columns: Vec<(String, ast::DataType)>,
    pub connection: ObjectName,
    pub options: Options,
    pub key_format: Option<FormatSyntax>,
    pub value_format: Option<FormatSyntax>,
    /// `INCLUDE what [AS name]`: what, lowercased.
    pub include: Vec<(String, Option<String>)>,
    /// `ENVELOPE e`: e, lowercased.
    pub envelope: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CreateSinkStatement {
    pub name: ObjectName,
    pub if_not_exists: bool,
    pub from: ObjectName,
    pub connection: ObjectName,
    pub options: Options,
    pub key: Vec<String>,
    pub format: Option<FormatSyntax>,
    pub envelope: Option<String>,
}

/// After `CREATE SINK`.
pub fn parse_create_sink(parser: &mut Parser) -> Result<CreateSinkStatement, ParserError> {
    let if_not_exists = parser.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    let name = parser.parse_object_name(false)?;
    parser.expect_keyword(Keyword::FROM)?;
    let from = parser.parse_object_name(false)?;
    parser.expect_keyword(Keyword::INTO)?;
    expect_words(parser, &["kafka"])?;
    let (connection, options) = parse_connection_ref(parser)?;
    let mut statement = CreateSinkStatement {
        name,
        if_not_exists,
        from,
        connection,
        options,
        key: vec![],
        format: None,
        envelope: None,
    };
    loop {
        match peek_word(parser, 0).as_deref() {
            Some("key") => {
                parser.next_token();
                parser.expect_token(&Token::LParen)?;
                statement.key =
                    parser.parse_comma_separated(|p| Ok(p.parse_identifier()?.value))?;
                parser.expect_token(&Token::RParen)?;
            }
            Some("format") => {
                parser.next_token();
                statement.format = Some(parse_format(parser)?);
            }
            Some("envelope") => {
                parser.next_token();
                statement.envelope = Some(parse_envelope(parser, "UPSERT or DEBEZIUM")?);
            }
            _ => break,
        }
    }
    Ok(statement)
}

/// After `CREATE SECRET`.
pub fn parse_create_secret(parser: &mut Parser) -> Result<CreateSecretStatement, ParserError> {
    let if_not_exists = parser.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    let name = parser.parse_object_name(false)?;
    parser.expect_keyword(Keyword::AS)?;
    let value = parser.parse_expr()?;
    Ok(CreateSecretStatement {
        name,
        if_not_exists,
        value,
    })
}

/// After `CREATE CONNECTION`.
pub fn parse_create_connection(
    parser: &mut Parser,
) -> Result<CreateConnectionStatement, ParserError> {
    let if_not_exists = parser.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    let name = parser.parse_object_name(false)?;
    parser.expect_keyword(Keyword::TO)?;
    let kind = match parser.next_token().token {
        Token::Word(w) => w.value.to_lowercase(),
        other => {
            return Err(ParserError::ParserError(format!(
                "Expected: KAFKA, found: {other}"
            )));
        }
    };
    let options = parse_options(parser)?;
    Ok(CreateConnectionStatement {
        name,
        if_not_exists,
        kind,
        options,
    })
}

/// After `CREATE SOURCE [IF NOT EXISTS] name [(columns)] FROM KAFKA`.
pub fn parse_kafka_source(
    parser: &mut Parser,
    name: ObjectName,
    if_not_exists: bool,
    columns: Vec<(String, ast::DataType)>,
) -> Result<KafkaSourceStatement, ParserError> {
    let (connection, options) = parse_connection_ref(parser)?;
    let mut statement = KafkaSourceStatement {
        name,
        if_not_exists,
        columns,
        connection,
        options,
        key_format: None,
        value_format: None,
        include: vec![],
        envelope: None,
    };
    loop {
        match (
            peek_word(parser, 0).as_deref(),
            peek_word(parser, 1).as_deref(),
        ) {
            (Some("format"), _) => {
                parser.next_token();
                let format = parse_format(parser)?;
                statement.key_format = Some(format.clone());
                statement.value_format = Some(format);
            }
            (Some("key"), Some("format")) => {
                parser.next_token();
                parser.next_token();
                statement.key_format = Some(parse_format(parser)?);
                expect_words(parser, &["value", "format"])?;
                statement.value_format = Some(parse_format(parser)?);
            }
            (Some("include"), _) => {
                parser.next_token();
                loop {
                    let what = match parser.next_token().token {
                        Token::Word(w) => w.value.to_lowercase(),
                        other => {
                            return Err(ParserError::ParserError(format!(
                                "Expected: KEY, PARTITION, OFFSET or TIMESTAMP, found: {other}"
                            )));
                        }
                    };
                    let alias = if parser.parse_keyword(Keyword::AS) {
                        Some(parser.parse_identifier()?.value)
                    } else {
                        None
                    };
                    statement.include.push((what, alias));
                    if !parser.consume_token(&Token::Comma) {
                        break;
                    }
                }
            }
            (Some("envelope"), _) => {
                parser.next_token();
                statement.envelope = Some(parse_envelope(parser, "NONE, UPSERT or DEBEZIUM")?);
            }
            _ => break,
        }
    }
    Ok(statement)
}

/// Consumes `words` (unquoted, any case), or fails at the first one missing.
fn expect_words(parser: &mut Parser, words: &[&str]) -> Result<(), ParserError> {
    for word in words {
        if peek_word(parser, 0).as_deref() != Some(*word) {
            return Err(ParserError::ParserError(format!(
                "Expected: {}, found: {}",
                word.to_uppercase(),
                parser.peek_token().token
            )));
        }
        parser.next_token();
    }
    Ok(())
}

/// `CONNECTION name [(options)]`.
fn parse_connection_ref(parser: &mut Parser) -> Result<(ObjectName, Options), ParserError> {
    expect_words(parser, &["connection"])?;
    let connection = parser.parse_object_name(false)?;
    let options = if matches!(parser.peek_token().token, Token::LParen) {
        parse_options(parser)?
    } else {
        vec![]
    };
    Ok((connection, options))
}

/// The envelope's name after ENVELOPE, lowercased; `expected` names the choices.
fn parse_envelope(parser: &mut Parser, expected: &str) -> Result<String, ParserError> {
    match parser.next_token().token {
        Token::Word(w) => Ok(w.value.to_lowercase()),
        other => Err(ParserError::ParserError(format!(
            "Expected: {expected}, found: {other}"
        ))),
    }
}

/// `TEXT | BYTES | JSON | CSV WITH n COLUMNS | CSV WITH HEADER [(...)] | other ...`; the
/// words of an unknown format are skipped up to the next clause.
fn parse_format(parser: &mut Parser) -> Result<FormatSyntax, ParserError> {
    let word = match parser.next_token().token {
        Token::Word(w) => w.value.to_lowercase(),
        other => {
            return Err(ParserError::ParserError(format!(
                "Expected: a format, found: {other}"
            )));
        }
    };
    Ok(match word.as_str() {
        "text" => FormatSyntax::Text,
        "bytes" => FormatSyntax::Bytes,
        "json" => FormatSyntax::Json,
        "avro"
            if peek_word(parser, 0).as_deref() == Some("using")
                && peek_word(parser, 1).as_deref() == Some("schema") =>
        {
            parser.next_token();
            parser.next_token();
            FormatSyntax::AvroSchema(parser.parse_literal_string()?)
        }
        "protobuf" if peek_word(parser, 0).as_deref() == Some("message") => {
            parser.next_token();
            let message = parser.parse_literal_string()?;
            if peek_word(parser, 0).as_deref() == Some("using")
                && peek_word(parser, 1).as_deref() == Some("schema")
            {
                parser.next_token();
                parser.next_token();
                FormatSyntax::Protobuf {
                    message,
                    schema: parser.parse_literal_string()?,
                }
            } else {
                skip_clause(parser);
                FormatSyntax::Other(word)
            }
        }
        "csv" => {
            parser.expect_keyword(Keyword::WITH)?;
            if peek_word(parser, 0).as_deref() == Some("header") {
                parser.next_token();
                skip_clause(parser);
                FormatSyntax::CsvWithHeader
            } else {
                let columns = match parser.next_token().token {
                    Token::Number(n, _) => n.parse::<u64>().map_err(|_| {
                        ParserError::ParserError(format!("Expected: a column count, found: {n}"))
                    })?,
                    other => {
                        return Err(ParserError::ParserError(format!(
                            "Expected: a column count, found: {other}"
                        )));
                    }
                };
                expect_words(parser, &["columns"])?;
                FormatSyntax::Csv { columns }
            }
        }
        _ => {
            skip_clause(parser);
            FormatSyntax::Other(word)
        }
    })
}

/// Skips tokens up to the next clause of CREATE SOURCE (or the statement's end).
fn skip_clause(parser: &mut Parser) {
    let mut depth = 0usize;
    loop {
        let token = parser.peek_token().token;
        match &token {
            Token::EOF | Token::SemiColon => return,
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            Token::Word(_) if depth == 0 => {
                let w = peek_word(parser, 0);
                let next = peek_word(parser, 1);
                match (w.as_deref(), next.as_deref()) {
                    (Some("include" | "envelope"), _)
                    | (Some("key"), Some("format"))
                    | (Some("value"), Some("format")) => return,
                    _ => {}
                }
            }
            _ => {}
        }
        parser.next_token();
    }
}

/// `(name value, ...)`: names are one or more words; values a literal expression, a
/// parenthesized list of them, or `SECRET name`. An optional `=` may separate them.
pub fn parse_options(parser: &mut Parser) -> Result<Options, ParserError> {
    parser.expect_token(&Token::LParen)?;
    let mut options = Vec::new();
    loop {
        let mut words: Vec<String> = Vec::new();
        while let Some(w) = peek_word(parser, 0) {
            if w == "secret" && !words.is_empty() {
                break;
            }
            words.push(w);
            parser.next_token();
        }
        if words.is_empty() {
            return Err(ParserError::ParserError(format!(
                "Expected: an option name, found: {}",
                parser.peek_token().token
            )));
        }
        let _ = parser.consume_token(&Token::Eq);
        let value = if peek_word(parser, 0).as_deref() == Some("secret") {
            parser.next_token();
            OptionValue::Secret(parser.parse_object_name(false)?)
        } else if parser.consume_token(&Token::LParen) {
            let list = if parser.consume_token(&Token::RParen) {
                vec![]
            } else {
                let list = parser.parse_comma_separated(|p| p.parse_expr())?;
                parser.expect_token(&Token::RParen)?;
                list
            };
            OptionValue::List(list)
        } else {
            OptionValue::Expr(Box::new(parser.parse_expr()?))
        };
        options.push((words.join(" "), value));
        if !parser.consume_token(&Token::Comma) {
            break;
        }
    }
    parser.expect_token(&Token::RParen)?;
    Ok(options)
}
