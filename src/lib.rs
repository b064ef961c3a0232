//! collecte: the daily back office of SEPA Core direct debit.
//!
//! Layers, from the inside out: [`sepa`] (pure format layer), [`domain`] (pure business rules),
//! [`store`] (all SQL), [`import`] (CSV in), [`cli`] (the command line). See ARCHITECTURE.md.
#![warn(missing_docs)]

pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod import;
pub mod jobs;
pub mod sepa;
pub mod store;
pub mod telemetry;
pub mod worker;
