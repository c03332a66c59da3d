//! `haven user` and `haven restore`: accounts made and managed from the command line (the first
//! administrator has no one to create them), and putting a backup in place.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use haven_domain::account::{check_password, valid_username};
use haven_domain::time::SystemClock;
use haven_domain::Role;
use haven_store::accounts::{self, NewUser};
use haven_store::crypto::{key_path, KeyFile};
use haven_store::{keys, Actor, Db, Entry, Store};

use super::*;

pub(super) async fn user(g: &Global, cmd: UserCommand) -> anyhow::Result<()> {
    let (store, _) = open(g).await?;
    let actor = Actor::system("user");
    match cmd {
        UserCommand::Add { name, agency, roles, display_name } => {
            if !valid_username(&name) {
                bail!("a user name has 3 to 64 lowercase letters, digits, '.', '_' or '-'");
            }
            if store.user_by_name(&name).await?.is_some() {
                bail!("user {name} already exists");
            }
            let agency =
                store.agency_by_code(&agency).await?.with_context(|| format!("no agency with code {agency}"))?;
            let roles = roles
                .iter()
                .map(|r| Role::from_code(r).with_context(|| format!("unknown role {r}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            // The operator at the console sets up accounts directly (there may be no second administrator
            // yet), but never an administrator who also reads case files.
            haven_domain::roles::check_roles(&roles).map_err(|e| match e {
                haven_domain::roles::RolesError::Empty => anyhow::anyhow!("give the user at least one role"),
                haven_domain::roles::RolesError::AdminAndCaseWork => {
                    anyhow::anyhow!("an administrator cannot also hold a case role or the auditor role")
                }
            })?;
            let password = read_password()?;
            check_password(&name, &password).map_err(|e| anyhow::anyhow!("password refused: {}", e.key()))?;
            let hash = accounts::hash_password(password).await?;
            let mut c = store.command(&actor).await?;
            accounts::create_user(
                &mut c,
                &NewUser {
                    username: &name,
                    display_name: display_name.as_deref().unwrap_or(&name),
                    agency_id: &agency.id,
                    roles: &roles,
                    password_hash: &hash,
                },
            )
            .await?;
            c.commit().await?;
            println!("User {name} created.");
        }
        UserCommand::ResetPassword { name } => {
            let u = user_by_name(&store, &name).await?;
            let password = read_password()?;
            check_password(&name, &password).map_err(|e| anyhow::anyhow!("password refused: {}", e.key()))?;
            let hash = accounts::hash_password(password).await?;
            let mut c = store.command(&actor).await?;
            accounts::set_password(&mut c, &u.id, &hash).await?;
            c.commit().await?;
            println!("Password of {name} changed; their sessions ended.");
        }
        UserCommand::Disable { name } => {
            let u = user_by_name(&store, &name).await?;
            let mut c = store.command(&actor).await?;
            accounts::set_disabled(&mut c, &u.id, true).await?;
            c.commit().await?;
            println!("User {name} disabled.");
        }
        UserCommand::Token { name, label } => {
            let u = user_by_name(&store, &name).await?;
            if u.disabled {
                bail!("user {name} is disabled");
            }
            let mut c = store.command(&actor).await?;
            let token = accounts::create_token(&mut c, &u.id, &label).await?;
            c.commit().await?;
            // The token is the one secret this command exists to hand out.
            println!("{token}");
        }
    }
    store.db.close().await;
    Ok(())
}

pub(super) async fn restore(g: &Global, file: &Path) -> anyhow::Result<()> {
    if g.database.as_deref().is_some_and(|u| !u.starts_with("sqlite:")) {
        bail!("restore of PostgreSQL is done with pg_restore (see the README)");
    }
    let _lock = lock_data(&g.data, true)?;
    let target = g.data.join("haven.db");
    let probe = Db::connect(&format!("sqlite://{}?mode=ro", file.display())).await.context("opening the backup")?;
    let ok = probe.has_data_keys().await.unwrap_or(false);
    if !ok {
        probe.close().await;
        bail!("{} is not a Haven backup", file.display());
    }
    // The backup must open with the key file in this folder, or restoring it would make the data unreadable.
    let kf = if crate::cli::key_path(&g.data).exists() || KeyFile::from_environment() {
        let kf = KeyFile::load(&key_path(&g.data))?;
        let opens = keys::keyring_opens(&probe, &kf.master).await;
        probe.close().await;
        if !opens {
            bail!("the backup's data keys do not open with {}: put the key file from the time of the backup there first (a retired one, haven.key.retired-*, if keys were rotated since)", key_path(&g.data).display());
        }
        kf
    } else {
        probe.close().await;
        bail!("no key file in {}: copy the key file that belongs to the backup there first", g.data.display());
    };
    ensure_data_dir(&g.data)?;
    // The head of the log being replaced: the restore names it in the restored log.
    let mut replaced = None;
    if target.exists() {
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let aside = g.data.join(format!("haven.db.before-restore-{stamp}"));
        // Fold the WAL into the file before moving it, so the kept copy is complete.
        let db = Db::connect(&haven_store::sqlite_url(&g.data)).await?;
        db.checkpoint().await?;
        replaced = haven_store::witness::head_of(&db).await?;
        db.close().await;
        std::fs::rename(&target, &aside)?;
        println!("The current database was kept as {}.", aside.display());
    }
    for ext in ["db-wal", "db-shm"] {
        let _ = std::fs::remove_file(g.data.join(format!("haven.{ext}")));
    }
    std::fs::copy(file, &target)?;
    // A restore rolls the log back to the backup's head: it says so in the log itself, naming the head it
    // replaced, so that `audit verify` against a witness reports the rollback as this restore.
    let store = Store::open(&haven_store::sqlite_url(&g.data), &kf, Arc::new(SystemClock)).await?;
    let replaced_id = match &replaced {
        Some((seq, hash)) => haven_store::witness::short_code(*seq, hash),
        None => "0:".to_owned(),
    };
    let mut cmd = store.command(&Actor::system("restore")).await?;
    cmd.audit(Entry::new(haven_store::witness::RESTORE_ACTION, "audit", &replaced_id)).await?;
    cmd.commit().await?;
    if let Some(path) = witness_path(g)? {
        store.witness(&path).await?;
    }
    store.db.close().await;
    println!("Restored {} into {}.", file.display(), target.display());
    if let Some((seq, _)) = replaced {
        println!("The audit log now records this restore; it replaced a log of {seq} entries.");
    }
    Ok(())
}
