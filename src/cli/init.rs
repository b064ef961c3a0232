//! `collecte init`.

use std::path::Path;

use anyhow::Context as _;

use super::{CliError, Context};
use crate::config::{DEFAULT_CONFIG_FILE, EXAMPLE_CONFIG, EnvOverrides};

/// Writes the example config if there is none, creates the folders and the database.
pub async fn run(explicit_config: Option<&Path>) -> Result<(), CliError> {
    let path = explicit_config.map_or_else(|| Path::new(DEFAULT_CONFIG_FILE).to_path_buf(), Path::to_path_buf);
    let (ctx, written) = prepare(&path, &EnvOverrides::from_env()).await?;
    if written {
        println!(
            "wrote {} (a commented example with a valid demo creditor: edit it)",
            path.display()
        );
    } else {
        println!("{} exists, kept as it is", path.display());
    }
    let f = &ctx.config.folders;
    println!(
        "folders ready under {}",
        f.outbox.parent().unwrap_or(&f.outbox).display()
    );
    println!("database ready: {}", ctx.config.database);
    ctx.store.close().await;
    Ok(())
}

/// Writes the example config at `path` unless a file is there, opens (and migrates) the
/// ledger it names under `env`, and creates the exchange folders: what `init` and `demo`
/// share. Returns the context and whether the config was written.
pub(super) async fn prepare(path: &Path, env: &EnvOverrides) -> Result<(Context, bool), CliError> {
    let written = !path.exists();
    if written {
        std::fs::write(path, EXAMPLE_CONFIG).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let ctx = Context::load(path, env).await?;
    let f = &ctx.config.folders;
    for dir in [&f.outbox, &f.inbox, &f.processed, &f.quarantine, &f.statements, &f.mail] {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create folder {}", dir.display()))?;
    }
    Ok((ctx, written))
}
