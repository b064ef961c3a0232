//! `collecte init`.

use std::path::Path;

use anyhow::Context as _;

use super::{CliError, Context};
use crate::config::{DEFAULT_CONFIG_FILE, EXAMPLE_CONFIG};

/// Writes the example config if there is none, creates the folders and the database.
pub async fn run(explicit_config: Option<&Path>) -> Result<(), CliError> {
    let path = explicit_config.map_or_else(|| Path::new(DEFAULT_CONFIG_FILE).to_path_buf(), Path::to_path_buf);
    if path.exists() {
        println!("{} exists, kept as it is", path.display());
    } else {
        std::fs::write(&path, EXAMPLE_CONFIG).with_context(|| format!("cannot write {}", path.display()))?;
        println!(
            "wrote {} (a commented example with a valid demo creditor: edit it)",
            path.display()
        );
    }
    let ctx = Context::open(Some(&path)).await?;
    let f = &ctx.config.folders;
    for dir in [&f.outbox, &f.inbox, &f.processed, &f.quarantine, &f.statements, &f.mail] {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create folder {}", dir.display()))?;
    }
    println!(
        "folders ready under {}",
        f.outbox.parent().unwrap_or(&f.outbox).display()
    );
    println!("database ready: {}", ctx.config.database);
    ctx.store.close().await;
    Ok(())
}
