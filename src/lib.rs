pub mod sepa;
