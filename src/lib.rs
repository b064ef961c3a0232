//! collecte: the daily back office of SEPA Core direct debit.
//!
//! Layers, from the inside out: [`sepa`] (pure format layer), [`domain`] (pure business rules),
//! `store` (all SQL), jobs and the CLI. See ARCHITECTURE.md.
#![warn(missing_docs)]

pub mod domain;
pub mod sepa;
pub mod store;
