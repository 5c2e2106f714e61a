//! Moderato: a self-hosted comment backend for blogs.
//!
//! Read `docs/ARCHITECTURE.md` for the map. In short: `api` speaks HTTP,
//! `comments` and `auth` hold the rules, `db` persists, `domain` holds the
//! validated values everything passes around.

pub mod api;
pub mod auth;
pub mod cache;
pub mod cli;
pub mod comments;
pub mod compat;
pub mod config;
pub mod cpu;
pub mod db;
pub mod domain;
pub mod error;
pub mod metrics;
pub mod moderation;
pub mod outbox;
pub mod ratelimit;
pub mod services;
pub mod spam;
pub mod startup;
pub mod telemetry;
pub mod transfer;
pub mod web;
pub mod webhooks;
