use clap::Parser;

/// mimalloc instead of the system allocator: measured on the moderation
/// queue (many mid-sized allocations across worker threads), it cut CPU
/// per request and kept resident memory from ballooning with per-thread
/// arenas (see docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = moderato::cli::Cli::parse();
    match moderato::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("moderato: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
