//! Files Haven writes that hold its data or its keys (backups, key files, match results, the demo password):
//! readable and writable by their owner only, whatever the umask.

use std::fs::{File, OpenOptions};
use std::path::Path;

/// Open `path` for writing, readable by its owner only. With `replace`, an existing file is emptied (and its
/// mode narrowed, which opening alone would not do); without it, an existing file is an error.
pub fn create_private(path: &Path, replace: bool) -> std::io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true);
    if replace {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let file = opts.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn private_files_are_the_owners_alone_even_when_replacing_a_readable_one() {
        let dir = std::env::temp_dir().join(format!("haven-private-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("out.csv");
        std::fs::write(&path, "old").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert!(create_private(&path, false).is_err(), "never replaces unless asked");
        drop(create_private(&path, true).expect("replace"));
        let meta = std::fs::metadata(&path).expect("meta");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(meta.len(), 0, "emptied");
        std::fs::remove_dir_all(&dir).ok();
    }
}
