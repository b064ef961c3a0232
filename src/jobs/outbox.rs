//! Writing a file so that it appears complete or not at all: temporary name in the same
//! folder, fsync, rename into place (never over another file), fsync of the folder.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// A file-system failure, with the path involved.
#[derive(Debug, thiserror::Error)]
#[error("{doing} {}: {source}", path.display())]
pub struct OutboxError {
    /// What was being done ("cannot write", "cannot rename to"...).
    pub doing: &'static str,
    /// The file or folder.
    pub path: PathBuf,
    /// The OS error.
    pub source: io::Error,
}

/// Wraps an OS error with what was being done and on which path.
pub(crate) fn err<'a>(doing: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> OutboxError + 'a {
    move |source| OutboxError {
        doing,
        path: path.to_owned(),
        source,
    }
}

/// A writer that hashes what passes through it, so the checksum costs no second read.
pub struct Hashing<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a file already in place (a file a crashed run finished renaming).
pub fn sha256_of(path: &Path) -> Result<String, OutboxError> {
    let mut file = File::open(path).map_err(err("cannot read", path))?;
    let mut hasher = Sha256::new();
    io::copy(&mut file, &mut hasher).map_err(err("cannot read", path))?;
    Ok(hex(&hasher.finalize()))
}

/// The temporary name of `name` while this process writes it: `.{name}.{host}.{pid}.tmp`.
fn temporary_name(name: &str) -> String {
    format!(".{name}.{}.{}.tmp", super::runner::host_name(), std::process::id())
}

/// Removes temporary files left by writers of this host that died (their process id no
/// longer runs), so that nothing half-written lingers beside the bank's files. Another
/// host's (a shared folder, a container) are left alone: its process ids mean nothing here.
pub fn remove_stale_temporaries(dir: &Path) -> Result<usize, OutboxError> {
    let mut removed = 0;
    let host = format!(".{}", super::runner::host_name());
    for entry in fs::read_dir(dir).map_err(err("cannot list", dir))? {
        let entry = entry.map_err(err("cannot list", dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(pid) = name
            .strip_prefix('.')
            .and_then(|n| n.strip_suffix(".tmp"))
            .and_then(|n| n.rsplit_once('.'))
            .filter(|(written_by, _)| written_by.ends_with(&host))
            .and_then(|(_, pid)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            fs::remove_file(entry.path()).map_err(err("cannot remove", &entry.path()))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Gives the complete file `temp` its final name, unless a file of that name is already
/// there: a bank file in the outbox is never replaced (a ledger restored from an older backup
/// would otherwise reuse a name the bank may already hold). A rename that refuses to replace
/// (Linux `renameat2` with `RENAME_NOREPLACE`) keeps what transfer agents watch for (a file
/// moved into the folder); a file system without it (some network shares) gets a check
/// before an ordinary rename. The two steps guard a name that is new: file ids are unique in
/// a ledger and names carry its tag, so only two runs finishing the same stopped file at once
/// could meet there, and they write the same content.
fn place_new(temp: &Path, path: &Path) -> io::Result<()> {
    match rename_noreplace(temp, path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(already_there()),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {
            if path.symlink_metadata().is_ok() {
                Err(already_there())
            } else {
                fs::rename(temp, path)
            }
        }
        Err(e) => Err(e),
    }
}

/// `rename(from, to)` that fails with `AlreadyExists` rather than replace `to`.
#[cfg(target_os = "linux")]
fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c_path = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "the path holds a NUL byte"))
    };
    let (from, to) = (c_path(from)?, c_path(to)?);
    // SAFETY: both pointers are NUL-terminated strings that outlive the call; with
    // AT_FDCWD the paths are taken as `rename` takes them.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Elsewhere: "not supported", so [`place_new`] checks, then renames.
#[cfg(not(target_os = "linux"))]
fn rename_noreplace(_from: &Path, _to: &Path) -> io::Result<()> {
    Err(io::Error::from_raw_os_error(libc::ENOSYS))
}

fn already_there() -> io::Error {
    io::Error::new(
        io::ErrorKind::AlreadyExists,
        "a file of that name is already there and is never replaced",
    )
}

/// The names in `dir` that start with `prefix` and end with `suffix`, sorted: the files one
/// ledger wrote into a folder it may share with others.
pub fn names_like(dir: &Path, prefix: &str, suffix: &str) -> Result<Vec<String>, OutboxError> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(err("cannot list", dir))? {
        let entry = entry.map_err(err("cannot list", dir))?;
        if let Some(name) = entry.file_name().to_str()
            && name.starts_with(prefix)
            && name.ends_with(suffix)
        {
            names.push(name.to_owned());
        }
    }
    names.sort_unstable();
    Ok(names)
}

/// Writes `dir/name` atomically with `fill`, returning its SHA-256. `fill` gets a buffered,
/// hashing writer; if it fails, the temporary file is removed and nothing appears.
pub fn write_atomically<E>(
    dir: &Path,
    name: &str,
    fill: impl FnOnce(&mut Hashing<BufWriter<File>>) -> Result<(), E>,
) -> Result<Result<String, E>, OutboxError> {
    match write_temporary(dir, name, fill)? {
        Ok(temporary) => temporary.place().map(Ok),
        Err(e) => Ok(Err(e)),
    }
}

/// A complete file under its temporary name in the folder it is bound for, fsynced, not yet
/// in place: [`write_atomically`] in two steps, so that a caller can finish something first
/// (collect commits the file's assignment meanwhile, and only a committed file may appear).
/// Dropped before [`Temporary::place`], it is removed.
#[derive(Debug)]
pub struct Temporary {
    dir: PathBuf,
    temp: PathBuf,
    final_path: PathBuf,
    sha: String,
    placed: bool,
}

/// The first step of [`write_atomically`]: `dir/name`'s content, written and fsynced under
/// its temporary name.
pub fn write_temporary<E>(
    dir: &Path,
    name: &str,
    fill: impl FnOnce(&mut Hashing<BufWriter<File>>) -> Result<(), E>,
) -> Result<Result<Temporary, E>, OutboxError> {
    let temp_path = dir.join(temporary_name(name));
    let file = File::create(&temp_path).map_err(err("cannot create", &temp_path))?;
    let mut temporary = Temporary {
        dir: dir.to_owned(),
        temp: temp_path,
        final_path: dir.join(name),
        sha: String::new(),
        placed: false,
    };
    let mut out = Hashing {
        inner: BufWriter::with_capacity(1 << 20, file),
        hasher: Sha256::new(),
    };
    if let Err(e) = fill(&mut out) {
        return Ok(Err(e));
    }
    let Hashing { inner, hasher } = out;
    let file = inner.into_inner().map_err(|e| OutboxError {
        doing: "cannot write",
        path: temporary.temp.clone(),
        source: e.into_error(),
    })?;
    file.sync_all().map_err(err("cannot sync", &temporary.temp))?;
    temporary.sha = hex(&hasher.finalize());
    Ok(Ok(temporary))
}

impl Temporary {
    /// Moves the file into place (never over an existing file: `AlreadyExists`) and fsyncs
    /// the folder; returns its SHA-256.
    pub fn place(mut self) -> Result<String, OutboxError> {
        place_new(&self.temp, &self.final_path).map_err(err("cannot move into place", &self.final_path))?;
        self.placed = true;
        let sha = std::mem::take(&mut self.sha);
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(err("cannot sync folder", &self.dir))?;
        Ok(sha)
    }
}

impl Drop for Temporary {
    /// Not placed (an error, or the caller's step failed): nothing half-done stays behind.
    fn drop(&mut self) {
        if !self.placed {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_files_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let sha = write_atomically::<()>(dir.path(), "a.xml", |w| {
            w.write_all(b"<x/>").unwrap();
            Ok(())
        })
        .unwrap()
        .unwrap();
        assert_eq!(fs::read(dir.path().join("a.xml")).unwrap(), b"<x/>");
        assert_eq!(sha, sha256_of(&dir.path().join("a.xml")).unwrap());
        let failed = write_atomically(dir.path(), "b.xml", |w| {
            w.write_all(b"half").unwrap();
            Err("stop")
        })
        .unwrap();
        assert_eq!(failed, Err("stop"));
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.xml")]);
    }

    #[test]
    fn never_replaces_a_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.xml"), b"sent").unwrap();
        let refused = write_atomically::<()>(dir.path(), "a.xml", |w| {
            w.write_all(b"other").unwrap();
            Ok(())
        })
        .unwrap_err();
        assert_eq!(refused.source.kind(), io::ErrorKind::AlreadyExists, "{refused}");
        assert!(refused.to_string().contains("a.xml"), "{refused}");
        assert_eq!(fs::read(dir.path().join("a.xml")).unwrap(), b"sent");
        assert_eq!(names_like(dir.path(), "", "").unwrap(), ["a.xml"]);
    }

    #[test]
    fn a_temporary_appears_only_when_placed_and_is_removed_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let listing = || names_like(dir.path(), "", ".xml").unwrap();
        let written = |name: &str| {
            write_temporary::<()>(dir.path(), name, |w| {
                w.write_all(b"<x/>").unwrap();
                Ok(())
            })
            .unwrap()
            .unwrap()
        };
        let kept = written("a.xml");
        assert_eq!(listing(), Vec::<String>::new(), "not in place before it is placed");
        drop(written("b.xml"));
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "a dropped temporary is removed"
        );
        let sha = kept.place().unwrap();
        assert_eq!(listing(), ["a.xml"]);
        assert_eq!(sha, sha256_of(&dir.path().join("a.xml")).unwrap());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary left");
    }

    #[test]
    fn removes_the_temporaries_of_dead_writers_of_this_host_only() {
        let dir = tempfile::tempdir().unwrap();
        let host = crate::jobs::runner::host_name();
        let dead = u32::MAX - 1; // no such process
        let names = [
            format!(".a.xml.{host}.{dead}.tmp"),
            format!(".b.xml.{host}.{}.tmp", std::process::id()),
            format!(".c.xml.another-host.{dead}.tmp"),
            "c.xml".to_owned(),
        ];
        for name in &names {
            fs::write(dir.path().join(name), b"").unwrap();
        }
        assert_eq!(remove_stale_temporaries(dir.path()).unwrap(), 1);
        let mut left = names_like(dir.path(), "", "").unwrap();
        left.sort();
        let mut expected = names[1..].to_vec();
        expected.sort();
        assert_eq!(left, expected);
    }

    #[test]
    fn lists_one_ledgers_names_in_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "CLT-b-2.xml",
            "CLT-a-1.xml",
            "CLT-b-1.xml",
            "CLT-b-1.xml.reason.txt",
            ".CLT-b-3.xml.9.tmp",
        ] {
            fs::write(dir.path().join(name), b"").unwrap();
        }
        assert_eq!(
            names_like(dir.path(), "CLT-b-", ".xml").unwrap(),
            ["CLT-b-1.xml", "CLT-b-2.xml"]
        );
    }
}
