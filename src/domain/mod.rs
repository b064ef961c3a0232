//! Business rules as pure functions of values and an explicit business date (never `today()`).

pub mod collect;
pub mod email;
pub mod installments;
pub mod manual;
pub mod plan_changes;
pub mod records;
pub mod schedule;
pub mod triggers;
