//! The command line: `serve` (the default), `migrate`, `user create`.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};

use crate::auth::{self, PasswordHasher};
use crate::config::{Settings, Sources};
use crate::db::{self, ConnectionManager, DatabaseUrl, Db};
use crate::domain::{AuthorName, Email, Password, Role};
use crate::startup::Application;
use crate::telemetry;

#[derive(Debug, Parser)]
#[command(
    name = "moderato",
    version,
    about = "Self-hosted comment backend for blogs"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (what runs when no command is given).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DbArgs),
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
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
    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(args) => migrate(args).await,
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
    let url = DatabaseUrl::parse(&settings.database.url).map_err(anyhow::Error::msg)?;
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
        settings.auth.min_password_bytes,
        settings.auth.max_password_bytes,
    )?;

    let db_settings = settings.database.clone();
    let db = tokio::task::spawn_blocking(move || Db::connect(&db_settings)).await??;
    let argon = settings.auth.argon2.clone();
    let hasher = tokio::task::spawn_blocking(move || PasswordHasher::new(&argon)).await??;
    let user = auth::create_user(&db, &hasher, email, name, password, role).await?;
    println!("created {} {} (id {})", user.role, user.email, user.id);
    Ok(())
}
