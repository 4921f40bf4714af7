//! `Session`: one connection's state (variables, transaction, prepared cursors) and the
//! statement path parse → plan → sequence, talking to the coordinator task.

use super::client::{CancelKey, Client, ExecuteResponse, StatementDesc, TransactionStatus};
use super::error::Result;
use crate::repr::{Datum, ScalarType};
use crate::sql::Statement;

pub struct Session {
    pub(super) client: Client,
    pub(super) key: CancelKey,
    pub(super) user: String,
    pub(super) database: String,
    pub(super) status: TransactionStatus,
}

pub(super) async fn connect(client: &Client, user: &str, database: &str) -> Result<Session> {
    let _ = (client, user, database);
    todo!("session connect")
}

impl Session {
    pub fn cancel_key(&self) -> CancelKey {
        self.key
    }

    /// The ParameterStatus pairs sent after authentication (`server_version`,
    /// `client_encoding`, `DateStyle`, `TimeZone`, `integer_datetimes`, ...).
    pub fn startup_parameters(&self) -> Vec<(String, String)> {
        todo!("startup parameters")
    }

    pub fn transaction_status(&self) -> TransactionStatus {
        self.status
    }

    /// Describes `stmt` for the extended protocol. `param_types[i]` is the type the client
    /// declared for `$i+1` (None: infer it).
    pub async fn describe(
        &mut self,
        stmt: &Statement,
        param_types: &[Option<ScalarType>],
    ) -> Result<StatementDesc> {
        let _ = (stmt, param_types);
        todo!("describe")
    }

    /// Executes `stmt` with `params` bound to `$1, $2, ...` (already decoded to the types
    /// `describe` reported).
    pub async fn execute(&mut self, stmt: &Statement, params: &[Datum]) -> Result<ExecuteResponse> {
        let _ = (stmt, params);
        todo!("execute")
    }
}
