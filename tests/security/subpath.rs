//! (tests are added here)
