//! `callflow index backfill`: writes the index entries of events stored before the by-type
//! index existed (or under another `INDEX_HASH_KEY`), through the handlers' storage client.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use callflow_core::store::BackfillProgress;
use callflow_core::{Config, EventId, EventStore, IndexKey};
use callflow_deployment::env;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::progress::Progress;

/// Arguments of `callflow index`.
#[derive(clap::Args, Debug)]
pub struct IndexArgs {
    #[command(subcommand)]
    command: IndexCommand,
}

#[derive(clap::Subcommand, Debug)]
enum IndexCommand {
    /// Index the events stored in FROM..TO (by event time): idempotent, resumable.
    ///
    /// The store is the one the handlers use, configured by the same variables (S3_BUCKET,
    /// INDEX_HASH_KEY, S3_ENDPOINT, S3_FORCE_PATH_STYLE, S3_* retry settings, AWS
    /// credentials), or with --dev-data-dir the embedded store of a stopped `callflow dev`.
    Backfill(BackfillArgs),
}

/// Arguments of `callflow index backfill`.
#[derive(clap::Args, Debug)]
pub struct BackfillArgs {
    /// Start of the range (RFC 3339, inclusive).
    #[arg(long, value_parser = parse_time)]
    from: OffsetDateTime,
    /// End of the range (RFC 3339, exclusive).
    #[arg(long, value_parser = parse_time)]
    to: OffsetDateTime,
    /// A progress file: written after every listed page, read at start to resume after the
    /// last event it records (when its range is this one).
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
    /// Backfill the embedded store of `callflow dev` in this data directory (dev must not be
    /// running) instead of the store the environment names.
    #[arg(long, value_name = "DIR")]
    dev_data_dir: Option<PathBuf>,
}

fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|e| format!("{text:?}: not RFC 3339 ({e})"))
}

/// What the checkpoint file holds.
#[derive(Debug, Serialize, Deserialize)]
struct Checkpoint {
    #[serde(with = "time::serde::rfc3339")]
    from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    to: OffsetDateTime,
    last: Option<EventId>,
    events: usize,
    complete: bool,
}

/// Runs `callflow index`.
pub fn run(args: &IndexArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        IndexCommand::Backfill(b) => backfill(b),
    }
}

fn backfill(args: &BackfillArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.to > args.from, "--to must be after --from");
    let resume = match &args.checkpoint {
        Some(path) => read_checkpoint(path, args)?,
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        // The embedded store (when used) lives as long as `_storage`.
        let (_storage, store, description) = open_store(args).await?;
        let (resume_after, earlier) = resume.map_or((None, 0), |c| (c.last, c.events));
        let progress = Progress::new(None);
        if let Some(id) = resume_after {
            progress.log(&format!(
                "callflow index: resuming after {id} ({earlier} events indexed before)"
            ));
        }
        progress.log(&format!(
            "callflow index: backfilling {} .. {} in {description}",
            fmt_time(args.from),
            fmt_time(args.to)
        ));
        let started = std::time::Instant::now();
        let mut write_error = None;
        let done = store
            .backfill(args.from, args.to, resume_after, |p| {
                progress.status(format!(
                    "callflow index: {} events indexed, last {}",
                    earlier + p.events,
                    p.last.map_or_else(|| "-".to_owned(), |id| id.to_string())
                ));
                if let Some(path) = &args.checkpoint
                    && write_error.is_none()
                {
                    write_error = write_checkpoint(path, args, p, earlier, false).err();
                }
            })
            .await
            .context("backfilling the index")?;
        progress.finish();
        if let Some(e) = write_error {
            return Err(e);
        }
        if let Some(path) = &args.checkpoint {
            write_checkpoint(path, args, &done, earlier, true)?;
        }
        println!(
            "indexed {} events ({} skipped keys) in {} ms",
            earlier + done.events,
            done.skipped,
            started.elapsed().as_millis()
        );
        Ok(ExitCode::SUCCESS)
    })
}

fn fmt_time(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// The store to backfill, the embedded store's handle when that is it, and a description.
async fn open_store(
    args: &BackfillArgs,
) -> anyhow::Result<(Option<callflow_dev::Storage>, EventStore, String)> {
    if let Some(dir) = &args.dev_data_dir {
        let key = callflow_dev::local_auth::index_key(dir)
            .with_context(|| format!("reading the index key in {}", dir.display()))?;
        let key = IndexKey::new(key).context("the data directory's index key")?;
        let storage = callflow_dev::Storage::open(
            &callflow_dev::StorageChoice::Embedded,
            dir,
            &key,
            callflow_dev::EmbeddedFsync::default(),
        )
        .await
        .with_context(|| format!("opening the embedded store in {}", dir.display()))?;
        let store = storage.event_store();
        let description = format!("the embedded store of {}", dir.display());
        return Ok((Some(storage), store, description));
    }
    // The handlers' variables; the two that only name log lines need not be set.
    let config = Config::from_lookup(|name| {
        std::env::var(name).ok().or_else(|| match name {
            env::SERVICE_NAME => Some("callflow-index".to_owned()),
            env::LOG_LEVEL => Some("warn".to_owned()),
            _ => None,
        })
    })
    .context("the store is configured by the handlers' environment variables")?;
    let description = format!("bucket {}", config.bucket.as_str());
    Ok((None, config.event_store().await, description))
}

fn read_checkpoint(path: &Path, args: &BackfillArgs) -> anyhow::Result<Option<Checkpoint>> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let c: Checkpoint = serde_json::from_slice(&text)
        .with_context(|| format!("{}: not a backfill checkpoint", path.display()))?;
    anyhow::ensure!(
        c.from == args.from && c.to == args.to,
        "{} records the range {} .. {}, not this one; pass another --checkpoint file",
        path.display(),
        fmt_time(c.from),
        fmt_time(c.to)
    );
    Ok(if c.complete { None } else { Some(c) })
}

/// Writes the checkpoint atomically (a temporary file renamed over it).
fn write_checkpoint(
    path: &Path,
    args: &BackfillArgs,
    p: &BackfillProgress,
    earlier: usize,
    complete: bool,
) -> anyhow::Result<()> {
    let c = Checkpoint {
        from: args.from,
        to: args.to,
        last: p.last,
        events: earlier + p.events,
        complete,
    };
    let tmp = path.with_extension("tmp");
    let body = serde_json::to_vec_pretty(&c).context("encoding the checkpoint")?;
    std::fs::write(&tmp, body).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
