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

/// The temporary name of `name` while it is written: `.{name}.tmp`, one per file name, so
/// that a later run can tell a file still to be placed (its temporary is there) from one that
/// was placed and has left the folder since (neither name is).
fn temporary_name(name: &str) -> String {
    format!(".{name}.tmp")
}

/// The canonical path of the folder `dir`, as a file's row records where its temporary was
/// reserved, for people.
pub fn folder_path(dir: &Path) -> Result<String, OutboxError> {
    let canonical = fs::canonicalize(dir).map_err(err("cannot resolve", dir))?;
    Ok(canonical.to_string_lossy().into_owned())
}

/// The marker file of an outbox folder: a random id, written once, that tells the folder
/// from any other — another folder, or another at the same path (a share that failed to
/// mount and left its empty mount point, a folder made anew).
const MARKER: &str = ".collecte-outbox-id";

/// The id in `dir`'s marker, if it has one.
pub fn folder_marker(dir: &Path) -> Result<Option<String>, OutboxError> {
    let path = dir.join(MARKER);
    match fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text.trim().to_owned()).filter(|id| !id.is_empty())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(err("cannot read", &path)(e)),
    }
}

/// `dir`'s marker id, the marker written first if it has none: complete or not at all, and
/// never over another process's ([`write_atomically`]: each attempt under a temporary name of
/// its own; the loser reads the winner's id).
pub fn mark_folder(dir: &Path) -> Result<String, OutboxError> {
    if let Some(id) = folder_marker(dir)? {
        return Ok(id);
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let marked = match write_atomically(dir, MARKER, |w| w.write_all(id.as_bytes())) {
        Ok(Ok(_)) => id,
        Ok(Err(e)) => return Err(err("cannot write", &dir.join(MARKER))(e)),
        Err(e) => folder_marker(dir)?.ok_or(e)?,
    };
    // Attempts of a process killed while marking: with the folder marked, none of them can be
    // placed any more (a live one gives up and reads the winner's id).
    for stale in names_like(dir, &format!(".{MARKER}."), ".tmp")? {
        let _ = fs::remove_file(dir.join(stale));
    }
    Ok(marked)
}

/// Where a file stands in its folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whereabouts {
    /// In place under its name: complete.
    Placed,
    /// Only its temporary (this version's `.NAME.tmp`) is there: still to be placed.
    Temporary,
    /// Neither name is there.
    Neither,
}

/// Where the file `name` stands in `dir`.
pub fn whereabouts(dir: &Path, name: &str) -> Result<Whereabouts, OutboxError> {
    let exists = |path: PathBuf| path.try_exists().map_err(err("cannot look for", &path));
    Ok(if exists(dir.join(name))? {
        Whereabouts::Placed
    } else if exists(dir.join(temporary_name(name)))? {
        Whereabouts::Temporary
    } else {
        Whereabouts::Neither
    })
}

/// Removes the temporaries in `dir` whose file names start with `prefix` (one ledger's files:
/// others sharing the folder are left alone) but not those of `keep` (files still to be
/// placed), so that nothing half-written lingers beside the bank's files. Called under the
/// ledger's run lock once its files still to be placed are placed: what is left belongs to
/// assignments that never committed, or to earlier versions.
pub fn remove_stale_temporaries(dir: &Path, prefix: &str, keep: &[String]) -> Result<usize, OutboxError> {
    let mut removed = 0;
    for temp in names_like(dir, &format!(".{prefix}"), ".tmp")? {
        if keep.iter().any(|name| temp == temporary_name(name)) {
            continue;
        }
        let path = dir.join(&temp);
        fs::remove_file(&path).map_err(err("cannot remove", &path))?;
        removed += 1;
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
/// hashing writer; if it fails, the temporary file is removed and nothing appears. The
/// temporary's name is this call's own, so that writers of the same name at once never touch
/// each other's: one places its file, the others fail with `AlreadyExists`.
pub fn write_atomically<E>(
    dir: &Path,
    name: &str,
    fill: impl FnOnce(&mut Hashing<BufWriter<File>>) -> Result<(), E>,
) -> Result<Result<String, E>, OutboxError> {
    let (temp, file) = create_own_temporary(dir, name)?;
    let reserved = Reserved::synced(dir, name, temp.clone(), file)?;
    let placed = match reserved.fill(fill) {
        Ok(Ok(temporary)) => temporary.place().map(Ok),
        Ok(Err(e)) => Ok(Err(e)),
        Err(e) => Err(e),
    };
    if !matches!(placed, Ok(Ok(_))) {
        let _ = fs::remove_file(&temp);
    }
    placed
}

/// A file's temporary, created (empty) and recorded in its folder, not yet written: the
/// first step of writing a bank file in three ([`reserve`], [`Reserved::fill`],
/// [`Temporary::place`]). Collect reserves a file before it commits the file's assignment, so
/// that once the ledger says "writing", the folder holds the temporary or the placed file
/// until the file is taken away — never neither. Nothing here removes a temporary (but
/// [`Reserved::withdraw`], for a folder no ledger row names): a run that fails leaves it for
/// the next one to finish or, if its assignment was never committed, remove
/// ([`remove_stale_temporaries`]).
#[derive(Debug)]
pub struct Reserved {
    dir: PathBuf,
    temp: PathBuf,
    final_path: PathBuf,
    file: File,
}

/// Creates `dir/name`'s temporary, which must not exist yet (`AlreadyExists`: someone else
/// is writing a file of that name), and fsyncs `dir`, so that the temporary's name survives a
/// crash.
pub fn reserve(dir: &Path, name: &str) -> Result<Reserved, OutboxError> {
    let temp = dir.join(temporary_name(name));
    let file = File::create_new(&temp).map_err(err("cannot create", &temp))?;
    Reserved::synced(dir, name, temp, file)
}

/// [`reserve`] for a file still to be written again: a new temporary replaces the one a
/// stopped run left, if any, in one rename (not emptied in place: a writer that still had it
/// open would go on writing into the new one; not removed first: for a moment the folder
/// would hold neither name, which a re-run reads as "taken by the bank").
pub fn reserve_again(dir: &Path, name: &str) -> Result<Reserved, OutboxError> {
    let temp = dir.join(temporary_name(name));
    let (staging, file) = create_own_temporary(dir, name)?;
    fs::rename(&staging, &temp).map_err(err("cannot rename to", &temp))?;
    Reserved::synced(dir, name, temp, file)
}

/// Creates a temporary of `name` under a name no other writer has, `.{name}.{uuid}.tmp`:
/// shaped like an earlier version's temporary, so that one a crash leaves behind in the
/// outbox is removed with the other stale temporaries.
fn create_own_temporary(dir: &Path, name: &str) -> Result<(PathBuf, File), OutboxError> {
    let temp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let file = File::create_new(&temp).map_err(err("cannot create", &temp))?;
    Ok((temp, file))
}

/// The temporary `temp` no longer names the file this run wrote.
fn replaced(temp: PathBuf) -> OutboxError {
    OutboxError {
        doing: "cannot move into place",
        path: temp,
        source: io::Error::other("the temporary was replaced by another run's since this run wrote it"),
    }
}

/// Which file `metadata` describes, whatever its name: (device, inode).
fn file_identity(metadata: &fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (metadata.dev(), metadata.ino())
}

fn sync_folder(dir: &Path) -> Result<(), OutboxError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(err("cannot sync folder", dir))
}

impl Reserved {
    /// Removes the temporary just reserved, if its name still holds it: for a reservation
    /// that turned out to be made in another folder than the outbox (a share gone in
    /// between), which no ledger row names and no run would ever clear.
    pub fn withdraw(self) -> Result<(), OutboxError> {
        let ours = self.file.metadata().map_err(err("cannot read", &self.temp))?;
        match fs::symlink_metadata(&self.temp) {
            Ok(there) if file_identity(&there) == file_identity(&ours) => {
                fs::remove_file(&self.temp).map_err(err("cannot remove", &self.temp))
            }
            _ => Ok(()),
        }
    }

    /// `file`, created as `temp` for `dir/name`, once `dir` is fsynced: the temporary's name
    /// survives a crash from here on.
    fn synced(dir: &Path, name: &str, temp: PathBuf, file: File) -> Result<Self, OutboxError> {
        sync_folder(dir)?;
        Ok(Self {
            dir: dir.to_owned(),
            temp,
            final_path: dir.join(name),
            file,
        })
    }

    /// Writes the content with `fill` (a buffered, hashing writer) and fsyncs it: the file is
    /// complete under its temporary name, ready to be placed. If writing fails, the temporary
    /// is emptied but kept: its name still says the file is to be written, and a full disk
    /// gets its space back.
    pub fn fill<E>(
        self,
        fill: impl FnOnce(&mut Hashing<BufWriter<File>>) -> Result<(), E>,
    ) -> Result<Result<Temporary, E>, OutboxError> {
        let Reserved {
            dir,
            temp,
            final_path,
            file,
        } = self;
        let marker = file.try_clone().map_err(err("cannot write", &temp))?;
        let written = file_identity(&file.metadata().map_err(err("cannot write", &temp))?);
        let emptied = |result| {
            if !matches!(result, Ok(Ok(_))) {
                let _ = marker.set_len(0);
            }
            result
        };
        let mut out = Hashing {
            inner: BufWriter::with_capacity(1 << 20, file),
            hasher: Sha256::new(),
        };
        if let Err(e) = fill(&mut out) {
            drop(out); // its buffer is flushed on drop: before the temporary is emptied
            return emptied(Ok(Err(e)));
        }
        let Hashing { inner, hasher } = out;
        let synced = inner
            .into_inner()
            .map_err(|e| OutboxError {
                doing: "cannot write",
                path: temp.clone(),
                source: e.into_error(),
            })
            .and_then(|file| file.sync_all().map_err(err("cannot sync", &temp)))
            // Held read-only: a handle open for writing would tell watchers "written" again
            // when it closes, after the move, under the final name.
            .and_then(|()| File::open(&temp).map_err(err("cannot read", &temp)));
        emptied(synced.and_then(|file| {
            let identity = file_identity(&file.metadata().map_err(err("cannot read", &temp))?);
            if identity != written {
                return Err(replaced(temp.clone()));
            }
            Ok(Ok(Temporary {
                dir,
                temp,
                final_path,
                identity,
                _held: file,
                sha: hex(&hasher.finalize()),
            }))
        }))
    }
}

/// A complete file under its temporary name in the folder it is bound for, fsynced, not yet
/// in place.
#[derive(Debug)]
pub struct Temporary {
    dir: PathBuf,
    temp: PathBuf,
    final_path: PathBuf,
    /// The file this run wrote (device, inode): the temporary's name may have been given to
    /// another run's since.
    identity: (u64, u64),
    /// … kept open (read-only), so that its inode cannot be reused by that other file.
    _held: File,
    sha: String,
}

impl Temporary {
    /// Moves the file into place (never over an existing file: `AlreadyExists`) and fsyncs
    /// the folder; returns its SHA-256. The temporary's name must still be this run's file:
    /// a run that lost its lock may find it replaced by the new holder's, still being
    /// written, which it must not move into place.
    pub fn place(self) -> Result<String, OutboxError> {
        let now = fs::symlink_metadata(&self.temp).map_err(err("cannot move into place", &self.temp))?;
        if file_identity(&now) != self.identity {
            return Err(replaced(self.temp));
        }
        place_new(&self.temp, &self.final_path).map_err(err("cannot move into place", &self.final_path))?;
        sync_folder(&self.dir)?;
        Ok(self.sha)
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
    fn a_reserved_file_is_a_temporary_until_placed_and_stays_one_if_never_placed() {
        let dir = tempfile::tempdir().unwrap();
        let listing = || names_like(dir.path(), "", ".xml").unwrap();
        let written = |name: &str| {
            reserve(dir.path(), name)
                .unwrap()
                .fill::<()>(|w| {
                    w.write_all(b"<x/>").unwrap();
                    Ok(())
                })
                .unwrap()
                .unwrap()
        };
        let kept = written("a.xml");
        assert_eq!(listing(), Vec::<String>::new(), "not in place before it is placed");
        assert_eq!(whereabouts(dir.path(), "a.xml").unwrap(), Whereabouts::Temporary);
        drop(written("b.xml"));
        assert_eq!(
            whereabouts(dir.path(), "b.xml").unwrap(),
            Whereabouts::Temporary,
            "a temporary never placed stays for the next run"
        );
        let taken = reserve(dir.path(), "b.xml").unwrap_err();
        assert_eq!(
            taken.source.kind(),
            io::ErrorKind::AlreadyExists,
            "a new file's name is free"
        );
        let failed = reserve(dir.path(), "c.xml").unwrap().fill(|w| {
            w.write_all(&[b'x'; 4 << 20]).unwrap();
            Err("the disk is full")
        });
        assert_eq!(failed.unwrap().unwrap_err(), "the disk is full");
        assert_eq!(
            fs::read(dir.path().join(".c.xml.tmp")).unwrap(),
            b"",
            "a failed write keeps the temporary's name, not its bytes"
        );
        let sha = kept.place().unwrap();
        assert_eq!(listing(), ["a.xml"]);
        assert_eq!(whereabouts(dir.path(), "a.xml").unwrap(), Whereabouts::Placed);
        assert_eq!(whereabouts(dir.path(), "d.xml").unwrap(), Whereabouts::Neither);
        assert_eq!(sha, sha256_of(&dir.path().join("a.xml")).unwrap());
        // Reserving again empties what an earlier attempt left.
        let again = reserve_again(dir.path(), "b.xml").unwrap();
        assert_eq!(fs::read(&again.temp).unwrap(), b"");
    }

    #[test]
    fn a_temporary_replaced_by_another_run_is_not_placed() {
        let dir = tempfile::tempdir().unwrap();
        let write = |reserved: Reserved, bytes: &'static [u8]| {
            reserved
                .fill::<()>(|w| {
                    w.write_all(bytes).unwrap();
                    Ok(())
                })
                .unwrap()
                .unwrap()
        };
        // A run that lost its lock wrote its file; the new holder replaced the temporary and
        // is still writing into it.
        let first = write(reserve(dir.path(), "a.xml").unwrap(), b"<first/>");
        // Written and held read-only only: closing a handle open for writing after the move
        // would tell the transfer's watcher "written" a second time.
        let temp = fs::canonicalize(dir.path().join(".a.xml.tmp")).unwrap();
        let modes: Vec<u32> = fs::read_dir("/proc/self/fd")
            .unwrap()
            .filter_map(|fd| {
                let fd = fd.ok()?;
                (fs::read_link(fd.path()).ok()? == temp).then(|| {
                    let info =
                        fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.file_name().to_str().unwrap())).unwrap();
                    let flags = info.lines().find_map(|l| l.strip_prefix("flags:")).unwrap().trim();
                    u32::from_str_radix(flags, 8).unwrap() & 0o3
                })
            })
            .collect();
        assert_eq!(modes, [0], "one handle, read-only (O_RDONLY)");
        let second = reserve_again(dir.path(), "a.xml").unwrap();
        let refused = first.place().unwrap_err();
        assert!(refused.to_string().contains("replaced by another run"), "{refused}");
        assert_eq!(whereabouts(dir.path(), "a.xml").unwrap(), Whereabouts::Temporary);
        write(second, b"<second/>").place().unwrap();
        assert_eq!(fs::read(dir.path().join("a.xml")).unwrap(), b"<second/>");
        assert_eq!(names_like(dir.path(), "", "").unwrap(), ["a.xml"], "nothing else left");
    }

    #[test]
    fn a_withdrawn_reservation_takes_only_its_own_temporary() {
        let dir = tempfile::tempdir().unwrap();
        reserve(dir.path(), "A.xml").unwrap().withdraw().unwrap();
        assert_eq!(names_like(dir.path(), "", "").unwrap(), Vec::<String>::new());
        let first = reserve(dir.path(), "B.xml").unwrap();
        let _second = reserve_again(dir.path(), "B.xml").unwrap();
        first.withdraw().unwrap();
        assert_eq!(
            names_like(dir.path(), "", "").unwrap(),
            [".B.xml.tmp"],
            "the other run's stays"
        );
    }

    #[test]
    fn a_folder_is_marked_once_and_known_by_its_marker() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(folder_marker(dir.path()).unwrap(), None);
        let id = mark_folder(dir.path()).unwrap();
        assert_eq!(id.len(), 32, "{id}");
        assert_eq!(mark_folder(dir.path()).unwrap(), id, "marked once");
        assert_eq!(folder_marker(dir.path()).unwrap(), Some(id.clone()));
        assert_eq!(names_like(dir.path(), "", "").unwrap(), [MARKER], "no temporary left");
        // What a process killed while marking left behind goes with the next marking.
        let killed = tempfile::tempdir().unwrap();
        fs::write(killed.path().join(format!(".{MARKER}.0123.tmp")), b"01").unwrap();
        mark_folder(killed.path()).unwrap();
        assert_eq!(names_like(killed.path(), "", "").unwrap(), [MARKER]);
        // Another folder at the same path (made anew, a share not mounted) is another folder.
        fs::remove_dir_all(dir.path()).unwrap();
        fs::create_dir(dir.path()).unwrap();
        assert_eq!(folder_marker(dir.path()).unwrap(), None);
        assert_ne!(mark_folder(dir.path()).unwrap(), id);
        // Marked by many at once: one id wins, every one of them gets it.
        let many = tempfile::tempdir().unwrap();
        let ids: Vec<String> = std::thread::scope(|s| {
            let racers: Vec<_> = (0..8).map(|_| s.spawn(|| mark_folder(many.path()).unwrap())).collect();
            racers.into_iter().map(|r| r.join().unwrap()).collect()
        });
        assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
        assert_eq!(folder_marker(many.path()).unwrap().as_ref(), Some(&ids[0]));
        assert_eq!(names_like(many.path(), "", "").unwrap(), [MARKER]);
    }

    #[test]
    fn removes_one_ledgers_temporaries_only() {
        let dir = tempfile::tempdir().unwrap();
        let names = [
            ".CLT-aa-1.xml.tmp",           // removed
            ".CLT-aa-3.xml.host.4242.tmp", // an earlier version's: removed
            ".CLT-bb-1.xml.tmp",           // another ledger's: kept
            "CLT-aa-5.xml",                // a placed file: kept
        ];
        for name in &names {
            fs::write(dir.path().join(name), b"").unwrap();
        }
        let keep = ["CLT-aa-2.xml".to_owned()];
        fs::write(dir.path().join(".CLT-aa-2.xml.tmp"), b"").unwrap();
        assert_eq!(remove_stale_temporaries(dir.path(), "CLT-aa-", &keep).unwrap(), 2);
        assert_eq!(whereabouts(dir.path(), "CLT-aa-2.xml").unwrap(), Whereabouts::Temporary);
        let mut left = names_like(dir.path(), "", "").unwrap();
        left.sort();
        assert_eq!(left, [".CLT-aa-2.xml.tmp", names[2], names[3]]);
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
