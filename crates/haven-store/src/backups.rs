//! Scheduled backups of the embedded database into a folder, with retention: each a consistent copy named
//! by its instant in UTC (`haven-20261204T145500Z.db`), so that names sort by age, and only the newest
//! `keep` of them kept. Files of other names in the folder are never touched.

use std::path::{Path, PathBuf};

use anyhow::Context;
use haven_domain::time::Millis;

use crate::Db;

const PREFIX: &str = "haven-";
const SUFFIX: &str = ".db";

/// The file name of a backup made at `at`.
pub fn name_at(at: Millis) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{PREFIX}{:04}{:02}{:02}T{:02}{:02}{:02}Z{SUFFIX}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Whether a file name is one of these backups (`haven-YYYYMMDDTHHMMSSZ.db`).
fn is_backup(name: &str) -> bool {
    name.strip_prefix(PREFIX).and_then(|n| n.strip_suffix(SUFFIX)).is_some_and(|stamp| {
        stamp.len() == 16
            && stamp.char_indices().all(|(i, c)| match i {
                8 => c == 'T',
                15 => c == 'Z',
                _ => c.is_ascii_digit(),
            })
    })
}

/// Of the backups among `names`, the ones beyond the newest `keep`, oldest first.
pub fn beyond(names: &[String], keep: usize) -> Vec<String> {
    let mut backups: Vec<&String> = names.iter().filter(|n| is_backup(n)).collect();
    backups.sort();
    let excess = backups.len().saturating_sub(keep);
    backups.into_iter().take(excess).cloned().collect()
}

/// Write a backup of `db` into `dir` (created for its owner alone if missing), then delete the backups
/// beyond the newest `keep` (at least the new one is kept). Returns the new file and the ones deleted.
pub async fn backup_into(db: &Db, dir: &Path, keep: usize, at: Millis) -> anyhow::Result<(PathBuf, Vec<PathBuf>)> {
    if !dir.exists() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    let out = dir.join(name_at(at));
    if out.exists() {
        anyhow::bail!("{} exists already: one backup a second at most", out.display());
    }
    // Written under another name and renamed when complete, so that a file with a backup's name is whole.
    let partial = dir.join(format!("{}.partial", name_at(at)));
    let _ = std::fs::remove_file(&partial);
    db.backup_to(&partial).await?;
    std::fs::rename(&partial, &out).with_context(|| format!("naming {}", out.display()))?;
    let names: Vec<String> = std::fs::read_dir(dir)?.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
    let mut removed = Vec::new();
    for name in beyond(&names, keep.max(1)) {
        let path = dir.join(&name);
        std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        removed.push(path);
    }
    Ok((out, removed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_by_age_and_only_backups_are_counted() {
        // 4 December 2026, 14:55:00 UTC.
        assert_eq!(name_at(1_796_396_100_000), "haven-20261204T145500Z.db");
        let names: Vec<String> = [
            "haven-20261203T020000Z.db",
            "notes.txt",
            "haven-20261201T020000Z.db",
            "haven-20261204T020000Z.db",
            "haven-20261202T020000Z.db.partial",
            "haven-old.db",
            "haven-20261202T020000Z.db",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(beyond(&names, 2), ["haven-20261201T020000Z.db", "haven-20261202T020000Z.db"]);
        assert_eq!(beyond(&names, 4), Vec::<String>::new());
        assert_eq!(beyond(&names, 0).len(), 4);
    }
}
