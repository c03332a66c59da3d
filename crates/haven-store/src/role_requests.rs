//! Role requests: a change of roles that gives an account a role reading identities waits here until a second
//! person answers it (the rule is `haven_domain::roles::needs_approval`; who may answer, `haven_app::admin`).

use haven_domain::time::Millis;
use haven_domain::Role;
use serde::Serialize;

use crate::db::RowExt;
use crate::{new_id, Command, Entry, Store};

#[derive(Clone, Debug, Serialize)]
pub struct RoleRequest {
    pub id: String,
    pub user_id: String,
    pub username: String,
    pub agency_id: String,
    /// The roles the account would hold once approved (the whole set, not only what is added).
    pub roles: Vec<Role>,
    pub requested_by: String,
    pub requested_by_name: String,
    pub requested_at: Millis,
    /// `pending`, `approved`, `declined`, or `superseded` by a later request for the same account.
    pub status: String,
}

fn codes(roles: &[Role]) -> String {
    roles.iter().map(|r| r.code()).collect::<Vec<_>>().join(" ")
}

/// Ask for `roles` on an account; an earlier request still pending for it is superseded. Returns its id.
pub async fn request(cmd: &mut Command, user_id: &str, roles: &[Role]) -> anyhow::Result<String> {
    supersede(cmd, user_id).await?;
    let id = new_id();
    sqlx::query(
        "INSERT INTO role_requests (id, user_id, roles, requested_by, requested_at, status) \
         VALUES ($1, $2, $3, $4, $5, 'pending')",
    )
    .bind(&id)
    .bind(user_id)
    .bind(codes(roles))
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("user.roles_request", "user", user_id).fields(&["roles"])).await?;
    Ok(id)
}

/// Set aside any request pending for an account whose roles were just set directly: approving it later would
/// bring back what the direct change took away.
pub async fn supersede(cmd: &mut Command, user_id: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE role_requests SET status = 'superseded' WHERE user_id = $1 AND status = 'pending'")
        .bind(user_id)
        .execute(&mut *cmd.tx)
        .await?;
    Ok(())
}

/// Answer a pending request: approved, the account holds its roles from now on. False when it is no longer
/// pending (answered or superseded meanwhile): the caller drops the command.
pub async fn answer(cmd: &mut Command, r: &RoleRequest, approve: bool) -> anyhow::Result<bool> {
    let n = sqlx::query(
        "UPDATE role_requests SET status = $1, answered_by = $2, answered_at = $3 WHERE id = $4 AND status = 'pending'",
    )
    .bind(if approve { "approved" } else { "declined" })
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .bind(&r.id)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    if approve {
        crate::accounts::set_roles(cmd, &r.user_id, &r.roles).await?;
    }
    let action = if approve { "user.roles_approve" } else { "user.roles_decline" };
    cmd.audit(Entry::new(action, "user", &r.user_id).fields(&["roles"])).await?;
    Ok(true)
}

const COLS: &str = "q.id, q.user_id, u.username, u.agency_id, q.roles, q.requested_by, b.username, q.requested_at, \
                    q.status FROM role_requests q JOIN users u ON u.id = q.user_id JOIN users b ON b.id = q.requested_by";

fn row(r: crate::db::Row) -> anyhow::Result<RoleRequest> {
    let roles: String = r.try_get(4)?;
    Ok(RoleRequest {
        id: r.try_get(0)?,
        user_id: r.try_get(1)?,
        username: r.try_get(2)?,
        agency_id: r.try_get(3)?,
        roles: roles.split_whitespace().filter_map(Role::from_code).collect(),
        requested_by: r.try_get(5)?,
        requested_by_name: r.try_get(6)?,
        requested_at: r.try_get(7)?,
        status: r.try_get(8)?,
    })
}

impl Store {
    pub async fn role_request(&self, id: &str) -> anyhow::Result<Option<RoleRequest>> {
        let r = sqlx::query(&format!("SELECT {COLS} WHERE q.id = $1")).bind(id).fetch_optional(self.db.pool()).await?;
        r.map(row).transpose()
    }

    /// The request pending for an account, if any.
    pub async fn pending_role_request_of(&self, user_id: &str) -> anyhow::Result<Option<RoleRequest>> {
        let r = sqlx::query(&format!("SELECT {COLS} WHERE q.user_id = $1 AND q.status = 'pending'"))
            .bind(user_id)
            .fetch_optional(self.db.pool())
            .await?;
        r.map(row).transpose()
    }

    /// Pending requests, oldest first: every agency's, or one agency's accounts'.
    pub async fn pending_role_requests(&self, agency_id: Option<&str>, limit: i64) -> anyhow::Result<Vec<RoleRequest>> {
        let rows = match agency_id {
            Some(a) => {
                sqlx::query(&format!(
                    "SELECT {COLS} WHERE q.status = 'pending' AND u.agency_id = $1 ORDER BY q.requested_at LIMIT $2"
                ))
                .bind(a)
                .bind(limit)
                .fetch_all(self.db.pool())
                .await?
            }
            None => {
                sqlx::query(&format!("SELECT {COLS} WHERE q.status = 'pending' ORDER BY q.requested_at LIMIT $1"))
                    .bind(limit)
                    .fetch_all(self.db.pool())
                    .await?
            }
        };
        rows.into_iter().map(row).collect()
    }
}
