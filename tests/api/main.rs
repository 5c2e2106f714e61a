//! The HTTP API, exercised against the real server on port 0 with a fresh
//! database per test: SQLite by default, PostgreSQL when
//! MODERATO_TEST_DATABASE_URL is set.

mod articles;
mod auth;
mod authz;
mod cli;
mod comments;
mod console;
mod edit_delete;
mod guards;
mod health;
mod helpers;
mod isso;
mod moderation;
mod resilience;
mod security;
mod spam;
mod standins;
mod threads;
mod transfer;
mod widget;
