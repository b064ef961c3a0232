//! Business rules as pure functions of values and an explicit business date (never `today()`).

pub mod schedule;
