//! The command line: `serve` (the default), `migrate`, `backup`,
//! `user create`, `spam train|eval`, `import wordpress|disqus|isso|moderato`,
//! `export`.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};

use crate::auth::{self, PasswordHasher};
use crate::config::{Settings, Sources};
use crate::db::{self, ConnectionManager, DatabaseUrl, Db};
use crate::domain::{AuthorName, Email, Password, Role};
use crate::spam;
use crate::startup::Application;
use crate::telemetry;
use crate::transfer::{self, apply::Records, progress::Progress, ImportOptions, Limits};

#[derive(Debug, Parser)]
#[command(
    name = "moderato",
    version,
    about = "Self-hosted comment backend for blogs"
)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// `serve`'s options, for `moderato [serve] [OPTIONS]`.
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (what runs when no command is given).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DbArgs),
    /// Write a consistent copy of the SQLite database to FILE, safe while
    /// the server runs (for PostgreSQL, use pg_dump).
    Backup {
        /// Where to write the copy; must not exist yet.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Train and measure the built-in spam filter.
    Spam {
        #[command(subcommand)]
        command: SpamCommand,
    },
    /// Import comments from another system's export, or restore Moderato's
    /// own; safe to run again (nothing is imported twice).
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Write Moderato's own export (gzipped NDJSON) to standard output:
    /// `moderato export > site.ndjson.gz`.
    Export {
        /// Only this article and its comments.
        #[arg(long, value_name = "KEY")]
        article: Option<String>,
        /// Include accounts, with their password hashes: keep the file
        /// secret.
        #[arg(long)]
        include_accounts: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// A WordPress export (Tools → Export, a WXR .xml file).
    Wordpress {
        #[arg(value_name = "FILE.xml")]
        file: PathBuf,
        /// What becomes the article key: the post URL's path, its slug or
        /// its GUID.
        #[arg(long, value_enum, default_value = "path")]
        key_from: transfer::wordpress::KeyFrom,
        /// Import pingbacks and trackbacks too.
        #[arg(long)]
        include_pingbacks: bool,
        #[command(flatten)]
        common: ImportArgs,
    },
    /// A Disqus export (the .xml file Disqus mails).
    Disqus {
        #[arg(value_name = "FILE.xml")]
        file: PathBuf,
        /// What becomes the article key: the thread link's path, or the
        /// thread's identifier (`<id>`).
        #[arg(long, value_enum, default_value = "path")]
        key_from: transfer::disqus::KeyFrom,
        #[command(flatten)]
        common: ImportArgs,
    },
    /// An Isso database (the SQLite file named by Isso's `dbpath`), or a
    /// file in Isso's generic JSON import format.
    Isso {
        #[arg(value_name = "FILE.db|FILE.json")]
        file: PathBuf,
        #[command(flatten)]
        common: ImportArgs,
    },
    /// Moderato's own export (`moderato export`): into an empty database,
    /// a restore that keeps every id; into one in use, a merge.
    Moderato {
        #[arg(value_name = "FILE.ndjson[.gz]")]
        file: PathBuf,
        /// Do everything, then roll it back and print what would be done.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// Do everything, then roll it back and print what would be done.
    #[arg(long)]
    dry_run: bool,
    /// Teach the learned spam scorer: approved comments as ham, spam as
    /// spam.
    #[arg(long)]
    train: bool,
    /// Pass each comment through the spam pipeline, which may hold an
    /// approved one for review (never publish one).
    #[arg(long)]
    score: bool,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Debug, Subcommand)]
enum SpamCommand {
    /// Teach the learned scorer labelled comments (YouTube Spam Collection
    /// CSV, or `spam|ham<TAB>text` lines), stored in the database.
    Train {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Run the built-in pipeline on labelled files and print its accuracy.
    Eval {
        /// Files to train a fresh model on (ignored with --online).
        #[arg(long, num_args = 1.., value_name = "FILE")]
        train: Vec<PathBuf>,
        /// Files to score.
        #[arg(long, num_args = 1.., required = true, value_name = "FILE")]
        test: Vec<PathBuf>,
        /// Start from an empty model and learn each test comment's label
        /// right after scoring it, as moderators would.
        #[arg(long)]
        online: bool,
        /// A TOML file overriding config/default.toml (its [spam] section).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Start from the model stored in this database (what a site's
        /// verdicts, `spam train` or an import's --train taught) instead of
        /// an empty one; --train files are learned on top of it.
        #[arg(long, value_name = "URL")]
        database: Option<String>,
    },
}

#[derive(Debug, Args, Default)]
struct ServeArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Address to listen on, e.g. 0.0.0.0:8080 (overrides server.bind).
    #[arg(long, value_name = "HOST:PORT")]
    bind: Option<String>,
}

#[derive(Debug, Args, Default)]
struct DbArgs {
    /// A TOML file overriding config/default.toml.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Database URL (overrides database.url).
    #[arg(long, value_name = "URL")]
    database: Option<String>,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["commenter", "moderator", "admin"])]
        role: String,
        /// Read the password from stdin (the only way: never in argv, where
        /// other users of the machine can see it).
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

impl DbArgs {
    fn sources(&self, extra: Vec<String>) -> Sources {
        let mut overrides = extra;
        if let Some(url) = &self.database {
            overrides.push(toml_setting("database.url", url));
        }
        Sources {
            file: self.config.clone(),
            env: true,
            overrides,
        }
    }
}

/// One `dotted.key = "value"` line. A JSON string literal is a valid TOML
/// basic string, so serde_json does the escaping.
fn toml_setting(key: &str, value: &str) -> String {
    format!("{key} = {}", serde_json::Value::from(value))
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve(cli.serve)) {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(args) => migrate(args).await,
        Command::Backup { file, db } => backup(db, file).await,
        Command::Spam {
            command: SpamCommand::Train { files, db },
        } => spam_train(db, files).await,
        Command::Spam {
            command:
                SpamCommand::Eval {
                    train,
                    test,
                    online,
                    config,
                    database,
                },
        } => spam_eval(config, database, train, test, online).await,
        Command::Import { command } => import(command).await,
        Command::Export {
            article,
            include_accounts,
            db,
        } => export(db, article, include_accounts).await,
        Command::User {
            command:
                UserCommand::Create {
                    email,
                    name,
                    role,
                    password_stdin,
                    db,
                },
        } => create_user(db, email, name, role, password_stdin).await,
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let extra = args
        .bind
        .iter()
        .map(|b| toml_setting("server.bind", b))
        .collect();
    let settings = Settings::load(&args.db.sources(extra))?;
    telemetry::init(&settings.log);
    let app = Application::build(settings).await?;
    let address = app.address();
    // Printed on stdout (logs go to stderr) so scripts can wait for it.
    println!("listening on http://{address}");
    tracing::info!(%address, "listening");
    app.run_until_stopped()
        .await
        .context("server stopped with an error")
}

async fn migrate(args: DbArgs) -> anyhow::Result<()> {
    let settings = Settings::load(&args.sources(Vec::new()))?;
    telemetry::init(&settings.log);
    let url = settings.database.url.clone();
    let manager = ConnectionManager::new(url.clone(), settings.database.sqlite.clone());
    let applied = tokio::task::spawn_blocking(move || {
        if let DatabaseUrl::Sqlite(path) = &url {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
        }
        let mut conn = manager.establish()?;
        Ok::<_, anyhow::Error>(db::run_migrations(&mut conn)?)
    })
    .await??;
    if applied.is_empty() {
        println!("database is up to date");
    } else {
        for version in &applied {
            println!("applied {version}");
        }
    }
    Ok(())
}

async fn backup(args: DbArgs, file: PathBuf) -> anyhow::Result<()> {
    let settings = Settings::load(&args.sources(Vec::new()))?;
    telemetry::init(&settings.log);
    let url = settings.database.url.clone();
    let DatabaseUrl::Sqlite(source) = &url else {
        bail!(
            "`moderato backup` copies SQLite databases; for PostgreSQL run \
             pg_dump --format=custom --file={} <database url> (docs/DEPLOY.md)",
            file.display()
        );
    };
    if !source.is_file() {
        bail!("no database at {}", source.display());
    }
    if file.exists() {
        bail!("{} exists already; give a new file name", file.display());
    }
    let manager = ConnectionManager::new(url.clone(), settings.database.sqlite.clone());
    let target = file.clone();
    let copied =
        tokio::task::spawn_blocking(move || db::backup::sqlite(&manager, &target)).await??;
    println!(
        "backed up {} comments and {} accounts to {} ({} bytes)",
        copied.comments,
        copied.users,
        file.display(),
        copied.bytes
    );
    Ok(())
}

async fn create_user(
    args: DbArgs,
    email: String,
    name: String,
    role: String,
    password_stdin: bool,
) -> anyhow::Result<()> {
    if !password_stdin {
        bail!("give the password on standard input with --password-stdin");
    }
    let settings = Settings::load(&args.sources(Vec::new()))?;
    telemetry::init(&settings.log);
    let limits = &settings.comments;
    let email = Email::parse(&email, limits.max_email_bytes, "email")?;
    let name = AuthorName::parse(&name, limits.max_name_bytes, "name")?;
    let role: Role = role
        .parse()
        .map_err(|_| anyhow::anyhow!("role must be commenter, moderator or admin"))?;
    let mut raw = String::new();
    std::io::stdin()
        .read_to_string(&mut raw)
        .context("reading the password from stdin")?;
    let raw = raw
        .strip_suffix('\n')
        .map(|s| s.strip_suffix('\r').unwrap_or(s))
        .unwrap_or(&raw)
        .to_string();
    let password = Password::parse(
        raw,
        settings.auth.min_password_chars,
        settings.auth.max_password_bytes,
    )?;

    let db_settings = settings.database.clone();
    let db = tokio::task::spawn_blocking(move || Db::connect(&db_settings)).await??;
    let argon = settings.auth.argon2.clone();
    let cpu = crate::cpu::CpuPool::start(1)?;
    let hasher = tokio::task::spawn_blocking(move || PasswordHasher::new(&argon, cpu)).await??;
    let user = auth::create_user(&db, &hasher, email, name, password, role).await?;
    println!("created {} {} (id {})", user.role, user.email, user.id);
    Ok(())
}

async fn spam_train(args: DbArgs, files: Vec<PathBuf>) -> anyhow::Result<()> {
    let settings = Settings::load(&args.sources(Vec::new()))?;
    telemetry::init(&settings.log);
    let samples = spam::eval::load_all(&files).map_err(anyhow::Error::msg)?;
    let spam_count = samples.iter().filter(|s| s.spam).count();
    let db_settings = settings.database.clone();
    let db = tokio::task::spawn_blocking(move || Db::connect(&db_settings)).await??;
    let learned = samples.len();
    let features = db
        .write(move |conn| {
            let mut model = spam::classifier::Model::empty();
            for sample in &samples {
                let text = spam::learned::text_of(&spam::Candidate {
                    body: sample.text.clone(),
                    ..spam::Candidate::default()
                });
                model.learn(&text, sample.spam);
            }
            spam::learned::persist_model(conn, &model)?;
            let (stored, _) = spam::LearnedModel::load(conn)?;
            Ok::<_, db::DbError>(stored.len())
        })
        .await?;
    println!(
        "learned {learned} comments ({spam_count} spam, {} ham); the model now has {features} features",
        learned - spam_count
    );
    Ok(())
}

async fn spam_eval(
    config: Option<PathBuf>,
    database: Option<String>,
    train: Vec<PathBuf>,
    test: Vec<PathBuf>,
    online: bool,
) -> anyhow::Result<()> {
    let args = DbArgs { config, database };
    let settings = Settings::load(&args.sources(Vec::new()))?;
    if !online && train.is_empty() && args.database.is_none() {
        bail!("give --train FILE... or --database URL (or --online to start from an empty model)");
    }
    let start = match &args.database {
        Some(_) => {
            let db_settings = settings.database.clone();
            let db = tokio::task::spawn_blocking(move || Db::connect(&db_settings)).await??;
            let (model, _) = db.read(spam::LearnedModel::load).await?;
            println!(
                "starting from the database's model ({} features)",
                model.len()
            );
            Some(model)
        }
        None => None,
    };
    let train = spam::eval::load_all(&train).map_err(anyhow::Error::msg)?;
    let test = spam::eval::load_all(&test).map_err(anyhow::Error::msg)?;
    let kinds: Vec<&str> = settings.spam.scorers.iter().map(|s| s.kind()).collect();
    println!(
        "pipeline: {} (thresholds: review {}, spam {}); {} mode; trained on {} comments, testing {}",
        kinds.join(", "),
        settings.spam.review_threshold,
        settings.spam.spam_threshold,
        if online { "online" } else { "batch" },
        if online { 0 } else { train.len() },
        test.len()
    );
    let counts = spam::eval::evaluate(&settings.spam, start, &train, &test, online)
        .await
        .map_err(anyhow::Error::msg)?;
    println!("{}", counts.summary());
    Ok(())
}

async fn import(command: ImportCommand) -> anyhow::Result<()> {
    let (file, common) = match &command {
        ImportCommand::Wordpress { file, common, .. }
        | ImportCommand::Disqus { file, common, .. }
        | ImportCommand::Isso { file, common } => (file.clone(), common),
        ImportCommand::Moderato { file, dry_run, db } => {
            return import_moderato(db, file.clone(), *dry_run).await
        }
    };
    let (settings, progress) = import_settings(&common.db, &file)?;
    let limits = Limits::of(&settings.comments);
    let read = progress.counter();
    let records: Box<dyn Records> = match command {
        ImportCommand::Wordpress {
            key_from,
            include_pingbacks,
            ..
        } => Box::new(transfer::wordpress::WordPress::open(
            &file,
            transfer::wordpress::Options {
                key_from,
                include_pingbacks,
                limits,
            },
            read,
        )?),
        ImportCommand::Disqus { key_from, .. } => Box::new(transfer::disqus::Disqus::open(
            &file, key_from, limits, read,
        )?),
        ImportCommand::Isso { .. } if is_json(&file) => {
            Box::new(transfer::isso_json::IssoJson::open(&file, limits)?)
        }
        ImportCommand::Isso { .. } => Box::new(transfer::isso::Isso::open(&file, limits)?),
        ImportCommand::Moderato { .. } => unreachable!("handled above"),
    };
    let db_settings = settings.database.clone();
    let db = tokio::task::spawn_blocking(move || Db::connect(&db_settings)).await??;
    let score = if common.score {
        Some(scorer(&settings, &db).await?)
    } else {
        None
    };
    let options = ImportOptions {
        dry_run: common.dry_run,
        train: common.train,
        score,
        progress,
    };
    write_import(&settings, records, options).await
}

/// Whether the file starts (after white space) with `[`: JSON, not a
/// SQLite database (which starts with "SQLite format 3").
fn is_json(file: &std::path::Path) -> bool {
    let mut head = [0u8; 64];
    let read = std::fs::File::open(file)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    head[..read]
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'[')
}

/// The settings an import runs with, and its progress over `file`.
fn import_settings(args: &DbArgs, file: &std::path::Path) -> anyhow::Result<(Settings, Progress)> {
    let settings = Settings::load(&args.sources(Vec::new()))?;
    telemetry::init(&settings.log);
    let total = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    Ok((settings, Progress::new(total, false)))
}

/// Runs the import on a connection of its own, off the async workers, and
/// prints its summary.
async fn write_import(
    settings: &Settings,
    records: Box<dyn Records>,
    options: ImportOptions,
) -> anyhow::Result<()> {
    let manager = ConnectionManager::new(
        settings.database.url.clone(),
        settings.database.sqlite.clone(),
    );
    let summary = tokio::task::spawn_blocking(move || {
        let mut conn = manager.establish()?;
        Ok::<_, anyhow::Error>(transfer::run_import(&mut conn, records, options)?)
    })
    .await??;
    print!("{summary}");
    Ok(())
}

/// The spam pipeline as `--score` runs it, on the import's thread: only
/// the scorers' own opinions hold a comment (no moderation mode applies).
async fn scorer(settings: &Settings, db: &Db) -> anyhow::Result<transfer::apply::Scorer> {
    let http = reqwest::Client::builder()
        .user_agent(concat!("Moderato/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let cpu = crate::cpu::CpuPool::start(crate::config::available_cores())?;
    let spam = spam::Spam::build(&settings.spam, http, cpu)?;
    spam.refresh(db).await?;
    let handle = tokio::runtime::Handle::current();
    let policy = spam::Policy {
        mode: crate::config::ModerationMode::None,
        trusted: false,
        approved_before: true,
    };
    Ok(Box::new(move |candidate| {
        handle.block_on(
            spam.pipeline
                .evaluate(std::sync::Arc::new(candidate), policy),
        )
    }))
}

async fn import_moderato(args: &DbArgs, file: PathBuf, dry_run: bool) -> anyhow::Result<()> {
    let (settings, progress) = import_settings(args, &file)?;
    let records: Box<dyn Records> = Box::new(transfer::moderato::Moderato::open(
        &file,
        progress.counter(),
    )?);
    let db_settings = settings.database.clone();
    tokio::task::spawn_blocking(move || Db::connect(&db_settings)).await??;
    let options = ImportOptions {
        dry_run,
        train: false,
        score: None,
        progress,
    };
    write_import(&settings, records, options).await
}

async fn export(args: DbArgs, article: Option<String>, accounts: bool) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() {
        bail!("the export is gzipped: send it to a file, e.g. `moderato export > site.ndjson.gz`");
    }
    let settings = Settings::load(&args.sources(Vec::new()))?;
    telemetry::init(&settings.log);
    let db_settings = settings.database.clone();
    tokio::task::spawn_blocking(move || Db::connect(&db_settings)).await??;
    let manager = ConnectionManager::new(
        settings.database.url.clone(),
        settings.database.sqlite.clone(),
    );
    let options = transfer::export::ExportOptions { article, accounts };
    let counts = tokio::task::spawn_blocking(move || {
        let mut conn = manager.establish()?;
        transfer::export::check(&mut conn, &options)?;
        let stdout = std::io::stdout().lock();
        Ok::<_, anyhow::Error>(transfer::export::write(
            &mut conn,
            &options,
            std::io::BufWriter::new(stdout),
        )?)
    })
    .await??;
    eprintln!(
        "exported {} articles, {} accounts, {} comments, {} bans, {} word-list entries",
        counts.articles, counts.accounts, counts.comments, counts.bans, counts.words
    );
    Ok(())
}
