//! Zip archives of reports (the usual EBICS delivery of camt files), member by member.
//!
//! Members are decompressed as streams and handed to a callback, so an archive of large
//! statements never sits decompressed in memory; the member count and each member's
//! decompressed size are capped ([`Limits`]) against zip bombs.

use std::io::{self, BufRead, BufReader, Read, Seek};

use zip::ZipArchive;

use super::{Limits, ReportError};

/// Whether these first bytes are those of a zip archive (a local file header, or the end
/// record of an empty archive): what decides zip versus XML, not the file name.
pub fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

/// Calls `each` with the name and a decompressing reader of every file in the archive, in
/// archive order (directories skipped). Stops at the first error `each` returns.
///
/// Errors if the archive cannot be read, holds more than [`Limits::max_archive_members`]
/// entries or an encrypted / unsupported member; a member growing past
/// [`Limits::max_member_bytes`] makes its reader fail with an I/O error.
pub fn for_each_member<R, E, F>(archive: R, limits: Limits, mut each: F) -> Result<(), E>
where
    R: Read + Seek,
    E: From<ReportError>,
    F: FnMut(&str, &mut dyn BufRead) -> Result<(), E>,
{
    let archive_error = |message: String| ReportError::Archive { message };
    let mut zip = ZipArchive::new(archive).map_err(|e| archive_error(e.to_string()))?;
    if zip.len() > limits.max_archive_members {
        return Err(archive_error(format!(
            "{} entries, over the limit of {}",
            zip.len(),
            limits.max_archive_members
        ))
        .into());
    }
    for index in 0..zip.len() {
        let member = zip
            .by_index(index)
            .map_err(|e| archive_error(format!("entry {index}: {e}")))?;
        if member.is_dir() {
            continue;
        }
        let name = String::from_utf8_lossy(member.name_raw()).into_owned();
        let capped = Capped {
            inner: member,
            left: limits.max_member_bytes,
            limit: limits.max_member_bytes,
        };
        let mut reader = BufReader::with_capacity(64 * 1024, capped);
        each(&name, &mut reader)?;
    }
    Ok(())
}

/// A reader that fails, rather than truncating silently, past `limit` bytes.
struct Capped<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // Anything more than the limit is an error; exactly the limit is fine.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(format!(
                    "zip member decompresses to more than {} bytes",
                    self.limit
                ))),
            };
        }
        let max = usize::try_from(self.left).unwrap_or(usize::MAX).min(buf.len());
        let n = self.inner.read(&mut buf[..max])?;
        self.left -= n as u64;
        Ok(n)
    }
}
